namespace Clientele.Accounts;

internal enum Role
{
    Owner = 0,
    Marketer = 1,
    Agent = 2,
}

internal sealed class User
{
    public Guid Id { get; set; }
    public string Email { get; set; } = "";
    public string EmailNormalized { get; set; } = "";
    public string? Name { get; set; }
    public Role Role { get; set; }
    public string PasswordHash { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime? LastLoginAt { get; set; }
    public DateTime? DisabledAt { get; set; }
}

internal enum ApiScope
{
    Read = 0,
    Write = 1,
    Admin = 2,
}

/// <summary>A key for the REST API. Only its SHA-256 hash is stored; the key is shown once.</summary>
internal sealed class ApiKey
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";

    /// <summary>The public part of the key, to find the row and to show in lists.</summary>
    public string Prefix { get; set; } = "";

    public byte[] Hash { get; set; } = [];
    public ApiScope Scope { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}

/// <summary>A stored response to a POST with an Idempotency-Key header, replayed on retry.</summary>
internal sealed class IdempotentRequest
{
    public Guid ApiKeyId { get; set; }
    public string Key { get; set; } = "";
    public string Path { get; set; } = "";
    public byte[] RequestHash { get; set; } = [];
    public int StatusCode { get; set; }
    public string ResponseBody { get; set; } = "";
    public DateTime CreatedAt { get; set; }
}
