using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;

namespace Clientele.Accounts;

/// <summary>
/// What a back-office password must be (OWASP ASVS 2.1): 12 to 128 characters, anything goes in between (no rules
/// about digits or symbols), but not one that attackers try first — a common or breached password, the product's name
/// or the user's own address with a few digits, or a run of neighbouring keys or repeated characters.
/// </summary>
internal static class PasswordPolicy
{
    public const int MinLength = 12;
    public const int MaxLength = 128;

    public const string Requirement = "at least 12 characters; a few words you remember make a good one";

    private static readonly Lazy<FrozenSet<string>> Common = new(LoadCommon);

    /// <summary>Rows of keys and the alphabet: a password that only walks along these is guessed early.</summary>
    private static readonly string[] Sequences =
    [
        "abcdefghijklmnopqrstuvwxyz", "01234567890", "`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./",
        "qwertzuiopü", "asdfghjklöä", "yxcvbnm,.-", "azertyuiop", "qsdfghjklm", "wxcvbn",
        "1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/",
    ];

    private static readonly Dictionary<char, char> Leet = new()
    {
        ['@'] = 'a',
        ['4'] = 'a',
        ['8'] = 'b',
        ['3'] = 'e',
        ['1'] = 'i',
        ['!'] = 'i',
        ['0'] = 'o',
        ['$'] = 's',
        ['5'] = 's',
        ['7'] = 't',
        ['+'] = 't',
        ['2'] = 'z',
    };

    /// <summary>Why the password cannot be used, in words for the person choosing it; null when it is fine.</summary>
    public static string? Problem(string password, string email)
    {
        var length = Length(password);
        if (length < MinLength)
        {
            return $"A password needs at least {MinLength} characters; this one has {length}. A few words you remember make a good one.";
        }
        if (length > MaxLength)
        {
            return $"A password can have at most {MaxLength} characters; this one has {length}.";
        }
        var lower = password.Trim().ToLowerInvariant();
        if (IsCommon(lower))
        {
            return "This password is on the list of common or breached passwords that attackers try first. Choose another.";
        }
        if (IsOwnAddressOrProduct(lower, email))
        {
            return "This password is too close to the e-mail address or the product's name. Choose another.";
        }
        if (IsRepeatedOrSequential(lower))
        {
            return "This password is only repeated characters or neighbouring keys. Choose another.";
        }
        return null;
    }

    /// <summary>Characters as a person counts them: surrogate pairs are one, and runs of spaces count once.</summary>
    public static int Length(string password)
    {
        var count = 0;
        var previousSpace = false;
        foreach (var rune in password.EnumerateRunes())
        {
            var space = Rune.IsWhiteSpace(rune);
            if (!(space && previousSpace))
            {
                count++;
            }
            previousSpace = space;
        }
        return count;
    }

    /// <summary>
    /// On the list as it is, or a listed word (also in l33t: "p@ssw0rd") with only a few digits and symbols around it:
    /// "Password2026!", "welcome123456".
    /// </summary>
    private static bool IsCommon(string lower)
    {
        var common = Common.Value;
        if (common.Contains(lower) || common.Contains(Squash(lower)))
        {
            return true;
        }
        var start = 0;
        var end = lower.Length;
        while (start < end && !char.IsLetter(lower[start]))
        {
            start++;
        }
        while (end > start && !char.IsLetter(lower[end - 1]))
        {
            end--;
        }
        if (start == end)
        {
            return false;
        }
        var core = lower[start..end];
        var around = lower[..start] + lower[end..];
        if (around.Length > 6 && !IsRepeatedOrSequential(around))
        {
            return false; // a listed word with many random digits is not what attackers try first
        }
        var unleet = new string([.. core.Select(c => Leet.TryGetValue(c, out var l) ? l : c)]);
        return common.Contains(LettersOnly(core)) || common.Contains(LettersOnly(unleet));
    }

    private static bool IsOwnAddressOrProduct(string lower, string email)
    {
        var address = email.Trim().ToLowerInvariant();
        var at = address.LastIndexOf('@');
        List<string> names = ["clientele", address];
        if (at > 0)
        {
            names.Add(address[..at]);
            names.Add(address[(at + 1)..]);
        }
        var rest = lower;
        foreach (var name in names.Where(n => n.Length >= 3).OrderByDescending(n => n.Length))
        {
            rest = rest.Replace(name, "", StringComparison.Ordinal);
        }
        if (rest.Length == lower.Length)
        {
            return false;
        }
        // Only digits and symbols, or a run of neighbouring keys, left besides the names: "ann.smith2026!".
        var letters = LettersOnly(rest);
        return letters.Length == 0 || IsRepeatedOrSequential(rest);
    }

    /// <summary>
    /// At most three stretches of equal or neighbouring characters ("aaaaaaaaaaaa", "123456789012", "qwerty123456",
    /// "1qaz2wsx3edc"), or one short piece said again and again ("abcabcabcabc", "passwordpassword").
    /// </summary>
    private static bool IsRepeatedOrSequential(string lower)
    {
        if (lower.Length == 0)
        {
            return true;
        }
        var stretches = 1;
        for (var i = 1; i < lower.Length; i++)
        {
            if (!Neighbours(lower[i - 1], lower[i]))
            {
                stretches++;
            }
        }
        if (stretches <= 3)
        {
            return true;
        }
        for (var unit = 1; unit <= lower.Length / 2; unit++)
        {
            var piece = lower.AsSpan(0, unit);
            var repeated = true;
            for (var i = unit; i < lower.Length && repeated; i++)
            {
                repeated = lower[i] == piece[i % unit];
            }
            if (repeated)
            {
                return true;
            }
        }
        return false;
    }

    private static bool Neighbours(char a, char b)
    {
        if (a == b)
        {
            return true;
        }
        foreach (var sequence in Sequences)
        {
            var i = sequence.IndexOf(a, StringComparison.Ordinal);
            if (i < 0)
            {
                continue;
            }
            if ((i > 0 && sequence[i - 1] == b) || (i + 1 < sequence.Length && sequence[i + 1] == b))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The SHA-1 of the password in upper-case hex, split as a range service wants it: 5 characters and 35.</summary>
    public static (string Prefix, string Suffix) RangeKey(string password)
    {
#pragma warning disable CA5350 // SHA-1 is what the range services are keyed by; it protects nothing here
        var hash = Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(password)));
#pragma warning restore CA5350
        return (hash[..5], hash[5..]);
    }

    /// <summary>
    /// Whether a range answer ("SUFFIX:COUNT" a line) lists the suffix with a count above zero; padding lines count 0.
    /// </summary>
    public static bool FoundInRange(string answer, string suffix)
    {
        foreach (var line in answer.AsSpan().EnumerateLines())
        {
            var colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim().Equals(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return long.TryParse(line[(colon + 1)..].Trim(), out var count) && count > 0;
            }
        }
        return false;
    }

    private static string LettersOnly(string s) => new([.. s.Where(char.IsLetter)]);

    /// <summary>Without spaces, dashes and dots: "correct horse battery staple" reads as the listed phrase.</summary>
    private static string Squash(string s) => new([.. s.Where(c => c is not (' ' or '-' or '_' or '.'))]);

    private static FrozenSet<string> LoadCommon()
    {
        using var stream = typeof(PasswordPolicy).Assembly.GetManifestResourceStream("Clientele.Accounts.CommonPasswords.txt")
            ?? throw new InvalidOperationException("The list of common passwords is missing from the build.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            var word = line.Trim();
            if (word.Length > 0 && !word.StartsWith('#'))
            {
                words.Add(word.ToLowerInvariant());
                words.Add(Squash(word.ToLowerInvariant()));
            }
        }
        return words.ToFrozenSet(StringComparer.Ordinal);
    }
}
