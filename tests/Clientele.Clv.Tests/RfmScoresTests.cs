namespace Clientele.Clv.Tests;

public sealed class RfmScoresTests
{
    [Fact]
    public void Ten_distinct_values_fill_each_quintile_twice()
    {
        var scores = RfmScores.Scores([.. Enumerable.Range(1, 10).Select(i => (double)i)]);
        Assert.Equal([1, 1, 2, 2, 3, 3, 4, 4, 5, 5], scores);
    }

    [Fact]
    public void Equal_values_get_equal_scores_whatever_the_order()
    {
        double[] values = [5, 1, 5, 3, 5, 2, 5, 4, 5, 0];
        var scores = RfmScores.Scores(values);
        Assert.Single(values.Zip(scores).Where(p => p.First == 5).Select(p => p.Second).Distinct());
        // Five customers have less than 5, so the fives sit at rank 6 of 10: quintile 1 + ⌊5·5/10⌋ = 3.
        Assert.Equal(3, scores[0]);
        var reversed = RfmScores.Scores([.. Enumerable.Reverse(values)]);
        Assert.Equal(Enumerable.Reverse(scores), reversed);
        Assert.Equal([1, 1, 1], RfmScores.Scores([7.0, 7, 7]));
    }

    [Fact]
    public void Recent_frequent_big_spenders_score_555()
    {
        RfmScoreInput[] customers =
        [
            new("best", 1, 20, 500),
            new("lapsed", 300, 1, 10),
            new("b", 10, 5, 100),
            new("c", 50, 3, 60),
            new("d", 100, 2, 30),
        ];
        var scores = RfmScores.Score(customers);
        Assert.Equal(["best", "lapsed", "b", "c", "d"], scores.Select(s => s.CustomerId));
        Assert.Equal("555", scores[0].Cell);
        Assert.Equal("111", scores[1].Cell);
        Assert.Equal("444", scores[2].Cell);
        Assert.Equal("333", scores[3].Cell);
        Assert.Equal("222", scores[4].Cell);
    }

    [Fact]
    public void Cdnow_summaries_score_into_balanced_recency_groups()
    {
        var summaries = RfmSummary.Build(CdnowData.SampleTransactions(), new DateOnly(1997, 9, 30), TimeUnit.Weeks);
        var scores = RfmScores.Score(summaries);
        Assert.Equal(2357, scores.Count);
        Assert.All(scores, s => Assert.Matches("^[1-5]{3}$", s.Cell));
        // Recency is almost continuous, so each quintile holds close to a fifth of the customers.
        Assert.All(scores.GroupBy(s => s.Recency), g => Assert.InRange(g.Count(), 400, 550));
        // 1,411 customers made no repeat purchase (FHL 2005): they share the lowest frequency score.
        Assert.Equal(1411, scores.Count(s => s.Frequency == 1));
        var byId = summaries.Zip(scores).ToList();
        Assert.All(byId.Where(p => p.First.Frequency == 0), p => Assert.Equal(1, p.Second.Frequency));
        Assert.Equal(5, byId.MaxBy(p => p.First.Frequency).Second.Frequency);
    }

    [Fact]
    public void Other_bin_counts_and_bad_input()
    {
        Assert.Equal([1, 1, 2, 2], RfmScores.Scores([1.0, 2, 3, 4], bins: 2));
        Assert.Equal("999", RfmScores.Score([new RfmScoreInput("x", 0, 1, 1), .. Enumerable.Range(1, 17).Select(i => new RfmScoreInput($"y{i}", i, 0, 0))], bins: 9)[0].Cell);
        Assert.Empty(RfmScores.Score(Array.Empty<RfmScoreInput>()));
        Assert.Throws<ArgumentOutOfRangeException>(() => RfmScores.Score([new RfmScoreInput("x", double.NaN, 1, 1)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => RfmScores.Score(Array.Empty<RfmScoreInput>(), bins: 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => RfmScores.Score(Array.Empty<RfmScoreInput>(), bins: 1));
    }
}
