using Clientele.Knowledge;

namespace Clientele.Tests.Knowledge;

/// <summary>What is looked for in a text, and the addresses articles get: pure functions, no database.</summary>
public sealed class SearchTermsTests
{
    [Fact]
    public void A_short_query_keeps_its_meaningful_words_and_matches_the_last_one_as_typed()
    {
        var read = SearchTerms.Read("How do I clean the grind");

        Assert.Equal(["clean", "grind"], read.Terms);
        Assert.False(read.IsMessage);
        Assert.True(read.PrefixLast);
        Assert.False(SearchTerms.Read("clean grinder ").PrefixLast); // a finished word
        Assert.False(SearchTerms.Read("grinder for me").PrefixLast); // the last word is not a term
    }

    [Fact]
    public void Operators_quotes_and_symbols_never_survive_only_letters_and_digits_do()
    {
        var read = SearchTerms.Read("\"refund*\" AND (NEAR(v60, kettle) OR title:grinder^2) -- 'drop'; 100234 x");

        Assert.Equal(["refund", "v60", "kettle", "title", "grinder", "drop"], read.Terms);
        Assert.All(read.Terms, t => Assert.True(t.All(char.IsLetterOrDigit)));
    }

    [Fact]
    public void An_email_is_read_without_its_quoted_reply_and_signature()
    {
        var read = SearchTerms.Read("""
            Hello,

            my parcel has not arrived and the tracking has not moved for a week. Could you check with the carrier?

            Best regards,
            Ann
            --
            Ann Baker, Warranty Department
            On Mon, 1 Jun 2026 at 10:00, Shop <hello@example.com> wrote:
            > Refunds take 5-7 days.
            """);

        Assert.True(read.IsMessage);
        Assert.Equal(["parcel", "arrived", "tracking", "moved", "week", "check", "carrier", "ann"], read.Terms);
        Assert.False(read.PrefixLast);
    }

    [Fact]
    public void A_reply_with_nothing_of_its_own_falls_back_on_what_it_quotes()
    {
        var read = SearchTerms.Read("Thanks, please see below!\n\n> My grinder makes a grinding noise since yesterday, what should I do about it?");

        Assert.Equal(["grinder", "makes", "grinding", "noise"], read.Terms);
    }

    [Fact]
    public void Stop_words_and_pleasantries_leave_nothing_and_long_texts_give_a_bounded_number_of_words()
    {
        Assert.Empty(SearchTerms.Read("Hi! Thanks so much, could you please let me know? Kind regards").Terms);
        Assert.Empty(SearchTerms.Read("").Terms);
        Assert.Empty(SearchTerms.Read(null).Terms);
        var many = SearchTerms.Read(string.Join(" ", Enumerable.Range(0, 500).Select(i => "topic" + i)));
        Assert.Equal(SearchTerms.MaxCandidates, many.Terms.Count);
        Assert.Equal("topic0", many.Terms[0]);
    }

    [Fact]
    public void A_message_uses_its_rarest_words_that_some_articles_hold_but_most_do_not()
    {
        string[] terms = ["coffee", "order", "zeppelin", "tracking", "label"];
        long[] counts = [9, 3, 0, 1, 1];

        Assert.Equal(["tracking", "label", "order"], KnowledgeBase.Pick(terms, counts, published: 10));
        Assert.Equal(["tracking", "label", "order", "coffee"], KnowledgeBase.Pick(terms, counts, published: 3)); // too few articles to judge
        Assert.Equal(KnowledgeBase.MaxTerms, KnowledgeBase.Pick([.. Enumerable.Range(0, 20).Select(i => "w" + i)], [.. Enumerable.Repeat(1L, 20)], 40).Count);
    }

    [Theory]
    [InlineData("How long does shipping take?", "how-long-does-shipping-take")]
    [InlineData("Où est ma commande ?", "ou-est-ma-commande")]
    [InlineData("Don't grind rice -- ever!", "dont-grind-rice-ever")]
    [InlineData("V60 vs. Chemex: 3 differences", "v60-vs-chemex-3-differences")]
    [InlineData("???", "article")]
    public void Slugs_are_made_from_titles(string title, string slug)
    {
        Assert.Equal(slug, Slugs.From(title));
        Assert.True(Slugs.IsValid(Slugs.From(title)));
    }

    [Fact]
    public void A_slug_in_use_gets_a_number_and_long_titles_are_cut()
    {
        Assert.Equal("returns", Slugs.Unique("returns", new HashSet<string>()));
        Assert.Equal("returns-3", Slugs.Unique("returns", new HashSet<string> { "returns", "returns-2" }));
        var longSlug = Slugs.From(string.Join(" ", Enumerable.Repeat("coffee", 30)));
        Assert.True(longSlug.Length <= Slugs.MaxLength && Slugs.IsValid(longSlug));
        var numbered = Slugs.Unique(longSlug, new HashSet<string> { longSlug });
        Assert.True(numbered.Length <= Slugs.MaxLength && Slugs.IsValid(numbered) && numbered.EndsWith("-2", StringComparison.Ordinal));
        Assert.False(Slugs.IsValid("Upper"));
        Assert.False(Slugs.IsValid("double--dash"));
        Assert.False(Slugs.IsValid("-edge"));
    }

    [Fact]
    public void Snippets_are_plain_text_near_the_first_match_and_about_two_hundred_characters()
    {
        var body = "# Returns\n\n" + string.Join(" ", Enumerable.Repeat("Some **general** words about the shop.", 10))
            + " Our *refund* policy: money back within [seven days](https://x.example). " + string.Join(" ", Enumerable.Repeat("More text here.", 30));

        var snippet = KnowledgeBase.Snippet(null, body, ["refunds"]);

        Assert.StartsWith("…", snippet);
        Assert.EndsWith("…", snippet);
        Assert.Contains("refund policy: money back within seven days", snippet);
        Assert.DoesNotContain("*", snippet);
        Assert.InRange(snippet.Length, 150, KnowledgeBase.SnippetLength + 2);
        Assert.Equal("Short summary.", KnowledgeBase.Snippet("Short **summary**.", body, ["refunds"]));
    }
}
