using BenchmarkDotNet.Running;
using Clientele.Bench;

// dotnet run -c Release --project bench/Clientele.Bench -- ingest [--postgres CONN] [--events N] [--onto-sqlite PATH] [--onto-postgres CONN]
// dotnet run -c Release --project bench/Clientele.Bench -- forms [--postgres CONN] [--rate 200] [--seconds 30] [--onto-sqlite PATH] [--onto-postgres CONN]
// dotnet run -c Release --project bench/Clientele.Bench -- journey-latency [--postgres CONN] [--rate 1000] [--seconds 20] [--onto-sqlite PATH] [--onto-postgres CONN]
// dotnet run -c Release --project bench/Clientele.Bench -- segments [--postgres CONN] [--contacts N] [--events N] [--orders N]
// dotnet run -c Release --project bench/Clientele.Bench -- dashboard [--postgres CONN] [--contacts N] [--events N] [--orders N] [--keep DIR]
// dotnet run -c Release --project bench/Clientele.Bench -- recommendations [--postgres CONN] [--orders N] [--products N]
// dotnet run -c Release --project bench/Clientele.Bench -- smtp [--messages N] [--size 2048]
// dotnet run -c Release --project bench/Clientele.Bench -- render [--messages N] [--contacts N]
// dotnet run -c Release --project bench/Clientele.Bench -- broadcast [--messages N] [--connections 8] [--postgres CONN] [--onto-sqlite PATH] [--onto-postgres CONN]
// dotnet run -c Release --project bench/Clientele.Bench -- micro
// dotnet run -c Release --project bench/Clientele.Bench -- clv   (the customer-value benchmarks, see docs/benchmarks.md)
if (args.Length > 0 && args[0] == "clv")
{
    BenchmarkSwitcher.FromAssembly(typeof(IngestRun).Assembly).Run(["--filter", "*Clv*", .. args[1..]]);
    return 0;
}
if (args.Length > 0 && args[0] == "forms")
{
    return await FormRun.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "segments")
{
    return await SegmentRun.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "dashboard")
{
    return await DashboardRun.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "recommendations")
{
    return await RecommendationRun.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "smtp")
{
    return await SmtpRun.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "render")
{
    return RenderRun.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "broadcast")
{
    return await BroadcastRun.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "journey-latency")
{
    return await JourneyLatencyRun.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "journeys")
{
    return await JourneyWorkerRun.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "compose")
{
    return ComposeRun.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "micro")
{
    BenchmarkSwitcher.FromAssembly(typeof(IngestRun).Assembly).Run(args[1..]);
    return 0;
}
return await IngestRun.RunAsync(args);
