using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Clientele.Events;

namespace Clientele.Bench;

/// <summary>CPU cost of checking one batch of 500 events, the pure part of ingestion.</summary>
[MemoryDiagnoser]
public class ValidationBenchmarks
{
    private JsonElement[] _items = [];
    private readonly DateTime _now = new(2026, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    [GlobalSetup]
    public void Setup()
    {
        var rows = IngestRun.Generate(500, seed: 3);
        var json = JsonSerializer.Serialize(new { events = rows.Select(r => r.Json()) });
        _items = JsonDocument.Parse(json).RootElement.GetProperty("events").EnumerateArray().ToArray();
    }

    [Benchmark]
    public int ValidateBatchOf500()
    {
        var ok = 0;
        foreach (var item in _items)
        {
            if (EventRules.Validate(item, _now).Draft is not null)
            {
                ok++;
            }
        }
        return ok;
    }
}
