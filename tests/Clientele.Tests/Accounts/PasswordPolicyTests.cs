using Clientele.Accounts;

namespace Clientele.Tests.Accounts;

public sealed class PasswordPolicyTests
{
    [Theory]
    [InlineData("short-pw-11")]
    [InlineData("a b c d e")]
    public void A_password_shorter_than_twelve_characters_is_refused_and_says_so(string password)
    {
        var problem = PasswordPolicy.Problem(password, "ann@shop.example");

        Assert.NotNull(problem);
        Assert.Contains("at least 12 characters", problem);
    }

    [Fact]
    public void Twelve_to_a_hundred_and_twenty_eight_characters_of_anything_are_accepted_without_composition_rules()
    {
        Assert.Null(PasswordPolicy.Problem("velvet orbit", "ann@shop.example")); // 12, only lower-case letters and a space
        Assert.Null(PasswordPolicy.Problem("grüne äpfel schmecken", "ann@shop.example"));
        Assert.Null(PasswordPolicy.Problem("🐙🐙 octopus garden 🐙", "ann@shop.example"));
        Assert.Null(PasswordPolicy.Problem(string.Join(" ", Enumerable.Repeat("tangerine lantern", 4)) + " mountain brook", "ann@shop.example"));
        var longest = string.Concat(Enumerable.Range(0, 16).Select(i => "river" + (char)('a' + i) + "k" + i % 10));
        Assert.Equal(128, longest.Length);
        Assert.Null(PasswordPolicy.Problem(longest, "ann@shop.example"));

        var tooLong = PasswordPolicy.Problem(longest + "x", "ann@shop.example");
        Assert.NotNull(tooLong);
        Assert.Contains("at most 128", tooLong);
    }

    [Fact]
    public void Characters_are_counted_as_a_person_sees_them_and_runs_of_spaces_count_once()
    {
        Assert.Equal(3, PasswordPolicy.Length("🐙🐙a"));
        Assert.Equal(3, PasswordPolicy.Length("a    b"));
        Assert.NotNull(PasswordPolicy.Problem("winter          sun", "ann@shop.example")); // 19 chars typed, 11 counted
    }

    [Theory]
    [InlineData("password1234")]
    [InlineData("PASSWORD1234")]
    [InlineData("Password2026!")]
    [InlineData("P@ssw0rd2026")]
    [InlineData("Welcome@2026")]
    [InlineData("iloveyou12345")]
    [InlineData("Correct Horse Battery Staple")]
    [InlineData("correct-horse-battery-staple")]
    [InlineData("trustnoone123")]
    [InlineData("dragon123456")]
    public void Common_and_breached_passwords_are_refused_whatever_their_case(string password)
    {
        var problem = PasswordPolicy.Problem(password, "ann@shop.example");

        Assert.NotNull(problem);
        Assert.Contains("common or breached passwords", problem);
    }

    [Theory]
    [InlineData("aaaaaaaaaaaa")]
    [InlineData("123456789012")]
    [InlineData("987654321098")]
    [InlineData("qwertyuiop12")]
    [InlineData("zxcvbnm,./123")]
    [InlineData("abcdefghijklmnop")]
    [InlineData("1qaz2wsx3edc")]
    [InlineData("xyzxyzxyzxyz")]
    [InlineData("q7!q7!q7!q7!q7!")]
    public void Repeated_characters_and_runs_of_neighbouring_keys_are_refused(string password)
    {
        Assert.NotNull(PasswordPolicy.Problem(password, "ann@shop.example"));
    }

    [Theory]
    [InlineData("ann.smith@shop.example")]
    [InlineData("ann.smith2026!")]
    [InlineData("ANN.SMITH@SHOP.EXAMPLE1")]
    [InlineData("shop.example1234")]
    [InlineData("clientele2026!")]
    [InlineData("Clientele-Clientele")]
    [InlineData("ann.smith-abcdef")]
    public void The_users_own_address_or_the_products_name_with_a_few_digits_is_refused(string password)
    {
        var problem = PasswordPolicy.Problem(password, "Ann.Smith@shop.example");

        Assert.NotNull(problem);
        Assert.Contains("too close to the e-mail address or the product's name", problem);
    }

    [Theory]
    [InlineData("owner-password-1", "owner@shop.test")]
    [InlineData("ann.smith likes green tea", "ann.smith@shop.example")]
    [InlineData("dragon-4821-7730-1192", "ann@shop.example")]
    [InlineData("demo-owner-2026", FirstRun.DemoEmail)]
    [InlineData("Tr0ub4dor&3-horse", "ann@shop.example")]
    public void Passwords_that_merely_contain_a_name_or_a_common_word_are_accepted(string password, string email)
    {
        Assert.Null(PasswordPolicy.Problem(password, email));
    }

    [Fact]
    public void Generated_passwords_always_pass()
    {
        for (var i = 0; i < 200; i++)
        {
            var password = Users.GeneratePassword();
            Assert.Null(PasswordPolicy.Problem(password, "ann@shop.example"));
            Assert.Equal(16, password.Length);
        }
    }
}
