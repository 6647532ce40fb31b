using System.Runtime.CompilerServices;

namespace FdrHarness.Core.Observations;

/// <summary>
/// The five observation files: their names, columns (in file order) and the mapping between a record and a row.
/// Column names are Hermes payload keys in snake_case; the report reads these files only, so changing a name here
/// changes the file format (bump <see cref="FormatVersion"/>).
/// </summary>
internal static class ObservationSchemas
{
    /// <summary>Stored in each file's key-value metadata as fdr.format.</summary>
    public const string FormatVersion = "1";

    public static ObservationColumn[] Events() =>
    [
        Columns.String("event_type"), Columns.Time("created_at"), Columns.String("scope"), Columns.UniqueString("name"),
        Columns.String("dataset_scope"), Columns.String("dataset"), Columns.String("src_rse"), Columns.String("dst_rse"),
        Columns.String("rse"), Columns.HexIdString("request_id"), Columns.HexIdString("previous_request_id"), Columns.String("rule_id"),
        Columns.String("activity"), Columns.Nullable<long>("bytes"), Columns.HexIdString("checksum_adler"), Columns.String("protocol"),
        Columns.Nullable<double>("duration"), Columns.String("reason"), Columns.Nullable<int>("retry_count"),
        Columns.HexIdString("transfer_id"), Columns.String("external_host"), Columns.String("account"), Columns.String("state"),
        Columns.Nullable<double>("progress"), Columns.NullableTime("submitted_at"), Columns.NullableTime("started_at"),
        Columns.NullableTime("transferred_at"),
    ];

    public static ObservationColumn[] Samples() =>
    [
        Columns.Time("time"), Columns.String("daemon"), Columns.String("pod"), Columns.String("node"), Columns.String("state"),
        Columns.Value<double>("cpu_cores"), Columns.Value<long>("memory_bytes"), Columns.Nullable<double>("cpu_request"),
        Columns.Nullable<double>("cpu_limit"), Columns.Nullable<long>("memory_request"), Columns.Nullable<long>("memory_limit"),
        Columns.Value<int>("restarts"), Columns.Value<long>("backlog"),
    ];

    public static ObservationColumn[] Lifecycle() =>
    [
        Columns.Time("time"), Columns.String("daemon"), Columns.String("pod"), Columns.String("node"), Columns.String("event"),
        Columns.String("reason"), Columns.Value<int>("restarts"),
    ];

    public static ObservationColumn[] Faults() =>
    [
        Columns.Time("start"), Columns.NullableTime("end"), Columns.String("name"), Columns.String("kind"),
        Columns.String("target"), Columns.String("detail"),
    ];

    public static ObservationColumn[] Injections() =>
    [
        Columns.Time("time"), Columns.String("scope"), Columns.UniqueString("name"), Columns.String("rse"),
        Columns.Value<long>("files"), Columns.Value<long>("bytes"),
    ];
}

/// <summary>
/// Row buffers of events.parquet; the field order is the column order of <see cref="ObservationSchemas.Events"/>. The
/// near-unique strings are held as the file stores them (<see cref="ColumnBatch.Utf8"/>; their buffers hold definition
/// levels); read back, every string column is string?[].
/// </summary>
internal sealed class EventBatch : ColumnBatch
{
    private string?[] _eventType = [], _scope = [], _datasetScope = [], _dataset = [], _srcRse = [], _dstRse = [], _rse = [],
        _ruleId = [], _activity = [], _protocol = [], _reason = [], _externalHost = [], _account = [], _state = [];
    private int[] _nameLevel = [], _requestIdLevel = [], _previousRequestIdLevel = [], _checksumLevel = [], _transferIdLevel = [];
    private Utf8Values _name = null!, _requestId = null!, _previousRequestId = null!, _checksum = null!, _transferId = null!;
    private DateTime[] _createdAt = [];
    private long?[] _bytes = [];
    private double?[] _duration = [], _progress = [];
    private int?[] _retryCount = [];
    private DateTime?[] _submittedAt = [], _startedAt = [], _transferredAt = [];

    protected override void Bind()
    {
        var a = Arrays;
        _eventType = As<string?>(a[0]); _createdAt = As<DateTime>(a[1]); _scope = As<string?>(a[2]); _nameLevel = As<int>(a[3]);
        _datasetScope = As<string?>(a[4]); _dataset = As<string?>(a[5]); _srcRse = As<string?>(a[6]); _dstRse = As<string?>(a[7]);
        _rse = As<string?>(a[8]); _requestIdLevel = As<int>(a[9]); _previousRequestIdLevel = As<int>(a[10]);
        _ruleId = As<string?>(a[11]); _activity = As<string?>(a[12]); _bytes = As<long?>(a[13]); _checksumLevel = As<int>(a[14]);
        _protocol = As<string?>(a[15]); _duration = As<double?>(a[16]); _reason = As<string?>(a[17]); _retryCount = As<int?>(a[18]);
        _transferIdLevel = As<int>(a[19]); _externalHost = As<string?>(a[20]); _account = As<string?>(a[21]);
        _state = As<string?>(a[22]); _progress = As<double?>(a[23]); _submittedAt = As<DateTime?>(a[24]); _startedAt = As<DateTime?>(a[25]);
        _transferredAt = As<DateTime?>(a[26]);
        (_name, _requestId, _previousRequestId, _checksum, _transferId) = (Utf8[3]!, Utf8[9]!, Utf8[10]!, Utf8[14]!, Utf8[19]!);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(in HermesEvent e)
    {
        var i = Count++;
        _eventType[i] = e.EventType; _createdAt[i] = e.CreatedAt; _scope[i] = e.Scope; _nameLevel[i] = _name.Add(e.NameRef, e.NameString);
        _datasetScope[i] = e.DatasetScope; _dataset[i] = e.Dataset; _srcRse[i] = e.SrcRse; _dstRse[i] = e.DstRse;
        _rse[i] = e.Rse; _requestIdLevel[i] = _requestId.Add(e.RequestIdHex, e.RequestIdString);
        _previousRequestIdLevel[i] = _previousRequestId.Add(e.PreviousRequestIdHex, e.PreviousRequestIdString);
        _ruleId[i] = e.RuleId; _activity[i] = e.Activity; _bytes[i] = e.Bytes; _checksumLevel[i] = _checksum.Add(e.ChecksumAdlerHex, e.ChecksumAdlerString);
        _protocol[i] = e.Protocol; _duration[i] = e.Duration; _reason[i] = e.Reason; _retryCount[i] = e.RetryCount;
        _transferIdLevel[i] = _transferId.Add(e.TransferIdHex, e.TransferIdString);
        _externalHost[i] = e.ExternalHost; _account[i] = e.Account; _state[i] = e.State; _progress[i] = e.Progress;
        _submittedAt[i] = e.SubmittedAt; _startedAt[i] = e.StartedAt; _transferredAt[i] = e.TransferredAt;
    }

    /// <summary>The rows of a row group read back (<see cref="ObservationColumn.ReadAsync"/>'s arrays).</summary>
    public static HermesEvent[] Rows(Array[] a, int rows)
    {
        var eventType = (string?[])a[0]; var createdAt = (DateTime[])a[1]; var scope = (string?[])a[2]; var name = (string?[])a[3];
        var datasetScope = (string?[])a[4]; var dataset = (string?[])a[5]; var srcRse = (string?[])a[6]; var dstRse = (string?[])a[7];
        var rse = (string?[])a[8]; var requestId = (string?[])a[9]; var previousRequestId = (string?[])a[10]; var ruleId = (string?[])a[11];
        var activity = (string?[])a[12]; var bytes = (long?[])a[13]; var checksum = (string?[])a[14]; var protocol = (string?[])a[15];
        var duration = (double?[])a[16]; var reason = (string?[])a[17]; var retryCount = (int?[])a[18]; var transferId = (string?[])a[19];
        var externalHost = (string?[])a[20]; var account = (string?[])a[21]; var state = (string?[])a[22]; var progress = (double?[])a[23];
        var submittedAt = (DateTime?[])a[24]; var startedAt = (DateTime?[])a[25]; var transferredAt = (DateTime?[])a[26];
        var result = new HermesEvent[rows];
        for (var i = 0; i < rows; i++)
            result[i] = new HermesEvent
            {
                EventType = eventType[i]!, CreatedAt = createdAt[i], Scope = scope[i], Name = name[i],
                DatasetScope = datasetScope[i], Dataset = dataset[i], SrcRse = srcRse[i], DstRse = dstRse[i],
                Rse = rse[i], RequestId = requestId[i], PreviousRequestId = previousRequestId[i], RuleId = ruleId[i],
                Activity = activity[i], Bytes = bytes[i], ChecksumAdler = checksum[i], Protocol = protocol[i],
                Duration = duration[i], Reason = reason[i], RetryCount = retryCount[i], TransferId = transferId[i],
                ExternalHost = externalHost[i], Account = account[i], State = state[i], Progress = progress[i],
                SubmittedAt = submittedAt[i], StartedAt = startedAt[i], TransferredAt = transferredAt[i],
            };
        return result;
    }
}

internal sealed class SampleBatch : ColumnBatch
{
    private DateTime[] _time = [];
    private string?[] _daemon = [], _pod = [], _node = [], _state = [];
    private double[] _cpu = [];
    private long[] _memory = [], _backlog = [];
    private double?[] _cpuRequest = [], _cpuLimit = [];
    private long?[] _memoryRequest = [], _memoryLimit = [];
    private int[] _restarts = [];

    protected override void Bind()
    {
        var a = Arrays;
        _time = As<DateTime>(a[0]); _daemon = As<string?>(a[1]); _pod = As<string?>(a[2]); _node = As<string?>(a[3]);
        _state = As<string?>(a[4]); _cpu = As<double>(a[5]); _memory = As<long>(a[6]); _cpuRequest = As<double?>(a[7]);
        _cpuLimit = As<double?>(a[8]); _memoryRequest = As<long?>(a[9]); _memoryLimit = As<long?>(a[10]);
        _restarts = As<int>(a[11]); _backlog = As<long>(a[12]);
    }

    public void Add(in PodSample s)
    {
        var i = Count++;
        _time[i] = s.Time; _daemon[i] = s.Daemon; _pod[i] = s.Pod; _node[i] = s.Node; _state[i] = s.State; _cpu[i] = s.CpuCores;
        _memory[i] = s.MemoryBytes; _cpuRequest[i] = s.CpuRequest; _cpuLimit[i] = s.CpuLimit; _memoryRequest[i] = s.MemoryRequest;
        _memoryLimit[i] = s.MemoryLimit; _restarts[i] = s.Restarts; _backlog[i] = s.Backlog;
    }

    public static PodSample[] Rows(Array[] a, int rows)
    {
        var b = new SampleBatch { Arrays = a };
        b.Bind();
        var result = new PodSample[rows];
        for (var i = 0; i < rows; i++)
            result[i] = new PodSample
            {
                Time = b._time[i], Daemon = b._daemon[i]!, Pod = b._pod[i]!, Node = b._node[i], State = b._state[i]!,
                CpuCores = b._cpu[i], MemoryBytes = b._memory[i], CpuRequest = b._cpuRequest[i], CpuLimit = b._cpuLimit[i],
                MemoryRequest = b._memoryRequest[i], MemoryLimit = b._memoryLimit[i], Restarts = b._restarts[i], Backlog = b._backlog[i],
            };
        return result;
    }
}

internal sealed class LifecycleBatch : ColumnBatch
{
    private DateTime[] _time = [];
    private string?[] _daemon = [], _pod = [], _node = [], _event = [], _reason = [];
    private int[] _restarts = [];

    protected override void Bind()
    {
        var a = Arrays;
        _time = As<DateTime>(a[0]); _daemon = As<string?>(a[1]); _pod = As<string?>(a[2]); _node = As<string?>(a[3]);
        _event = As<string?>(a[4]); _reason = As<string?>(a[5]); _restarts = As<int>(a[6]);
    }

    public void Add(in PodLifecycleEvent e)
    {
        var i = Count++;
        _time[i] = e.Time; _daemon[i] = e.Daemon; _pod[i] = e.Pod; _node[i] = e.Node; _event[i] = e.Event; _reason[i] = e.Reason;
        _restarts[i] = e.Restarts;
    }

    public static PodLifecycleEvent[] Rows(Array[] a, int rows)
    {
        var b = new LifecycleBatch { Arrays = a };
        b.Bind();
        var result = new PodLifecycleEvent[rows];
        for (var i = 0; i < rows; i++)
            result[i] = new PodLifecycleEvent
            {
                Time = b._time[i], Daemon = b._daemon[i]!, Pod = b._pod[i]!, Node = b._node[i], Event = b._event[i]!,
                Reason = b._reason[i], Restarts = b._restarts[i],
            };
        return result;
    }
}

internal sealed class FaultBatch : ColumnBatch
{
    private DateTime[] _start = [];
    private DateTime?[] _end = [];
    private string?[] _name = [], _kind = [], _target = [], _detail = [];

    protected override void Bind()
    {
        var a = Arrays;
        _start = As<DateTime>(a[0]); _end = As<DateTime?>(a[1]); _name = As<string?>(a[2]); _kind = As<string?>(a[3]);
        _target = As<string?>(a[4]); _detail = As<string?>(a[5]);
    }

    public void Add(in FaultRecord f)
    {
        var i = Count++;
        _start[i] = f.Start; _end[i] = f.End; _name[i] = f.Name; _kind[i] = f.Kind; _target[i] = f.Target; _detail[i] = f.Detail;
    }

    public static FaultRecord[] Rows(Array[] a, int rows)
    {
        var b = new FaultBatch { Arrays = a };
        b.Bind();
        var result = new FaultRecord[rows];
        for (var i = 0; i < rows; i++)
            result[i] = new FaultRecord
            {
                Start = b._start[i], End = b._end[i], Name = b._name[i]!, Kind = b._kind[i]!, Target = b._target[i]!, Detail = b._detail[i],
            };
        return result;
    }
}

internal sealed class InjectionBatch : ColumnBatch
{
    private DateTime[] _time = [];
    private string?[] _scope = [], _rse = [];
    private int[] _nameLevel = [];
    private Utf8Values _name = null!;
    private long[] _files = [], _bytes = [];

    protected override void Bind()
    {
        var a = Arrays;
        _time = As<DateTime>(a[0]); _scope = As<string?>(a[1]); _nameLevel = As<int>(a[2]); _rse = As<string?>(a[3]);
        _files = As<long>(a[4]); _bytes = As<long>(a[5]);
        _name = Utf8[2]!;
    }

    public void Add(in InjectionRecord r)
    {
        var i = Count++;
        _time[i] = r.Time; _scope[i] = r.Scope; _nameLevel[i] = _name.Add(r.Name); _rse[i] = r.Rse; _files[i] = r.Files; _bytes[i] = r.Bytes;
    }

    /// <summary>The rows of a row group read back.</summary>
    public static InjectionRecord[] Rows(Array[] a, int rows)
    {
        var time = (DateTime[])a[0]; var scope = (string?[])a[1]; var name = (string?[])a[2]; var rse = (string?[])a[3];
        var files = (long[])a[4]; var bytes = (long[])a[5];
        var result = new InjectionRecord[rows];
        for (var i = 0; i < rows; i++)
            result[i] = new InjectionRecord { Time = time[i], Scope = scope[i]!, Name = name[i]!, Rse = rse[i]!, Files = files[i], Bytes = bytes[i] };
        return result;
    }
}
