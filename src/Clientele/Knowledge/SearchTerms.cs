using System.Text;
using System.Text.RegularExpressions;

namespace Clientele.Knowledge;

/// <summary>
/// What to look for, read from a search box or a whole customer e-mail: the meaningful words only, as plain letters
/// and digits, so nothing anybody writes — quotes, asterisks, parentheses, AND / OR / NEAR — can reach the database's
/// query syntax. Pure: no database, no clock.
/// </summary>
/// <param name="Terms">Lower-case words, each once, in the order they first appear.</param>
/// <param name="IsMessage">A longer text (an e-mail): its words are weighed against the articles before use.</param>
/// <param name="PrefixLast">A short query: its last word may be half typed, so it also matches as a prefix.</param>
internal sealed partial record SearchTerms(IReadOnlyList<string> Terms, bool IsMessage, bool PrefixLast)
{
    /// <summary>At most this many of a text's words are considered.</summary>
    public const int MaxCandidates = 32;

    /// <summary>Texts up to this many words (and <see cref="ShortLength"/> characters) are queries, not messages.</summary>
    public const int ShortWords = 6;

    public const int ShortLength = 100;

    private const int MaxWordLength = 40;

    /// <summary>Only the start of a very long text is read: a customer's question comes first.</summary>
    private const int MaxTextLength = 20_000;

    public static SearchTerms Read(string? text)
    {
        text ??= "";
        if (text.Length > MaxTextLength)
        {
            text = text[..MaxTextLength];
        }
        var all = Words(text);
        var isMessage = all.Count > ShortWords || text.Trim().Length > ShortLength;
        var own = isMessage ? Words(WithoutQuotesAndSignature(text)) : all;
        var terms = Meaningful(own);
        if (terms.Count == 0 && isMessage)
        {
            terms = Meaningful(all); // only quoted text, or a reply on top of nothing: better the quote than nothing
        }
        var prefixLast = !isMessage && all.Count > 0 && terms.Count > 0 && terms[^1] == all[^1] && !char.IsWhiteSpace(text[^1]);
        return new SearchTerms(terms, isMessage, prefixLast);
    }

    private static List<string> Meaningful(List<string> words)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var terms = new List<string>();
        foreach (var word in words)
        {
            if (word.Length < 2 || word.Length > MaxWordLength || word.All(char.IsAsciiDigit) || StopWords.Contains(word) || !seen.Add(word))
            {
                continue;
            }
            terms.Add(word);
            if (terms.Count == MaxCandidates)
            {
                break;
            }
        }
        return terms;
    }

    /// <summary>Letters and digits, lower-cased; everything else separates words ("don't" is "don" and "t", both dropped).</summary>
    internal static List<string> Words(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var ch in text)
        {
            if (char.IsLetterOrDigit(ch))
            {
                current.Append(char.ToLowerInvariant(ch));
            }
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
        if (current.Length > 0)
        {
            words.Add(current.ToString());
        }
        return words;
    }

    [GeneratedRegex(@"^\s*(-{2,}\s*(original message|forwarded message)\s*-{2,}|_{10,}|-- ?$|sent from my\b|get outlook for\b)", RegexOptions.IgnoreCase)]
    private static partial Regex CutLine();

    [GeneratedRegex(@"(\bwrote|schrieb|a écrit|escribió|ha scritto)\s*:\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Attribution();

    /// <summary>
    /// The customer's own words: without quoted lines ("&gt; …"), the earlier message below "On … wrote:" or an
    /// "Original Message" divider, and the signature below "-- ".
    /// </summary>
    internal static string WithoutQuotesAndSignature(string text)
    {
        var kept = new StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (CutLine().IsMatch(line) || Attribution().IsMatch(line))
            {
                break;
            }
            if (line.TrimStart().StartsWith('>'))
            {
                continue;
            }
            kept.Append(line).Append('\n');
        }
        return kept.ToString();
    }

    /// <summary>
    /// Words that say nothing about what a customer needs: English function words, the greetings and courtesies of an
    /// e-mail, the pieces of contractions, and the query words of search engines.
    /// </summary>
    internal static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
        "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
        "can", "cannot", "could", "did", "do", "does", "doing", "down", "during", "each", "either", "else", "etc", "ever", "every",
        "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself",
        "his", "how", "however", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "might", "more", "most", "must", "my",
        "myself", "neither", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "ought", "our", "ours",
        "ourselves", "out", "over", "own", "same", "shall", "she", "should", "so", "some", "such", "than", "that", "the", "their",
        "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "though", "through", "to", "too",
        "under", "until", "up", "upon", "us", "very", "was", "we", "were", "what", "when", "where", "whether", "which", "while",
        "who", "whom", "whose", "why", "will", "with", "within", "without", "would", "yet", "you", "your", "yours", "yourself",
        "yourselves",
        // pieces of contractions: don't → don, t
        "don", "doesn", "didn", "isn", "aren", "wasn", "weren", "hasn", "haven", "hadn", "won", "wouldn", "couldn", "shouldn",
        "mustn", "needn", "ain", "ll", "ve", "re", "im", "ive", "id", "youre", "dont", "doesnt", "didnt", "cant", "wont", "isnt",
        // an e-mail's greetings, courtesies and chatter
        "hi", "hello", "hey", "dear", "greetings", "thanks", "thank", "thx", "ty", "regards", "best", "kind", "kindly",
        "cheers", "sincerely", "yours", "warm", "wishes", "please", "pls", "plz", "sorry", "ok", "okay", "yes", "yeah",
        "sir", "madam", "team", "everyone", "folks", "guys", "mr", "mrs", "ms", "dr",
        "sent", "iphone", "ipad", "android", "mobile", "outlook", "gmail", "email", "mail", "message", "wrote", "reply",
        "re", "fw", "fwd", "subject", "attached", "attachment",
        "would", "could", "get", "got", "getting", "know", "like", "want", "wanted", "need", "needed", "really", "much",
        "many", "well", "good", "great", "nice", "let", "tell", "said", "say", "says", "ask", "asked", "asking", "help",
        "question", "questions", "wonder", "wondering", "hope", "hoping", "think", "thought", "see", "look", "looking",
        "still", "already", "maybe", "perhaps", "something", "anything", "nothing", "everything", "someone", "anyone", "thing", "things",
        "one", "two", "lot", "bit", "quite", "even", "back", "way", "make", "made", "go", "going", "come", "take",
        "today", "yesterday", "tomorrow", "soon", "asap", "time", "lol", "since", "ago", "below", "above",
        "never", "always", "came", "comes", "send", "sending", "give", "given", "put", "try", "tried", "trying", "use", "used",
        "using", "work", "works", "worked", "working", "happen", "happened", "seems", "seem", "actually", "probably",
        // query words
        "near", "xor",
    };
}
