using FdrHarness.Core.Observations;
using Parquet;
using Parquet.Schema;

namespace FdrHarness.Reporting.Input;

/// <summary>
/// samples.parquet's row groups as <see cref="ObservationReader.SampleBatches"/> gives them, decoded by <see cref="ColumnChunks"/>:
/// the generic row reader's column code over double, double? and long? (Parquet.Net's and Core's) was JIT-compiled on
/// every report, and made a string per value of the daemon, pod, node and state columns (here one per distinct value).
/// </summary>
internal static class SampleColumns
{
    /// <summary>The file's row groups in file order, or null when some column is not as the sink writes it (then the row reader reads it).</summary>
    public static IEnumerable<PodSample[]>? Batches(string path)
    {
        try
        {
            using var probe = new Decoder(path);
            if (!probe.Supported()) return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null; // a damaged file: the row reader says so as it does for every file
        }
        return ObservationReader.Guard(Unguarded(path), path);
    }

    private static IEnumerable<PodSample[]> Unguarded(string path)
    {
        using var decoder = new Decoder(path);
        for (var g = 0; g < decoder.RowGroupCount; g++) yield return decoder.Decode(g);
    }

    private sealed class Decoder : IDisposable
    {
        private readonly ParquetInput _file;
        private readonly bool _nanos; // time holds INT64 nanoseconds since 1970
        private readonly DataField _time, _daemon, _pod, _node, _state, _cpu, _memory, _cpuRequest, _cpuLimit, _memoryRequest, _memoryLimit, _restarts, _backlog;
        private readonly Symbols _daemons = new(), _pods = new(), _nodes = new(), _states = new();
        private int[] _daemonIds = [], _podIds = [], _nodeIds = [], _stateIds = [];
        private long[] _ticks = [], _cpus = [], _memories = [], _cpuRequests = [], _cpuLimits = [], _memoryRequests = [], _memoryLimits = [], _restartCounts = [], _backlogs = [];
        private bool[] _noCpuRequest = [], _noCpuLimit = [], _noMemoryRequest = [], _noMemoryLimit = [];

        public Decoder(string path)
        {
            _file = new ParquetInput(path);
            try
            {
                _nanos = _file.IsNanos("time");
                DataField F(string name) => _file.Field(name);
                (_time, _daemon, _pod, _node, _state, _cpu, _memory) = (F("time"), F("daemon"), F("pod"), F("node"), F("state"), F("cpu_cores"), F("memory_bytes"));
                (_cpuRequest, _cpuLimit, _memoryRequest, _memoryLimit, _restarts, _backlog) = (F("cpu_request"), F("cpu_limit"), F("memory_request"), F("memory_limit"), F("restarts"), F("backlog"));
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public int RowGroupCount => _file.Reader.RowGroupCount;

        public void Dispose() => _file.Dispose();

        /// <summary>Whether every column chunk of the file is one <see cref="ColumnChunks"/> decodes.</summary>
        public bool Supported() => _nanos && _file.Decodable(
            (_time, Parquet.Meta.Type.INT64), (_daemon, Parquet.Meta.Type.BYTE_ARRAY), (_pod, Parquet.Meta.Type.BYTE_ARRAY),
            (_node, Parquet.Meta.Type.BYTE_ARRAY), (_state, Parquet.Meta.Type.BYTE_ARRAY), (_cpu, Parquet.Meta.Type.DOUBLE),
            (_memory, Parquet.Meta.Type.INT64), (_cpuRequest, Parquet.Meta.Type.DOUBLE), (_cpuLimit, Parquet.Meta.Type.DOUBLE),
            (_memoryRequest, Parquet.Meta.Type.INT64), (_memoryLimit, Parquet.Meta.Type.INT64), (_restarts, Parquet.Meta.Type.INT32),
            (_backlog, Parquet.Meta.Type.INT64));

        public PodSample[] Decode(int g)
        {
            using var group = _file.Reader.OpenRowGroupReader(g);
            var rows = ObservationReader.RowsOf(group, _file.Path);
            Grow(rows);
            _file.Strings(group, _daemon, rows, _daemons, _daemonIds);
            _file.Strings(group, _pod, rows, _pods, _podIds);
            _file.Strings(group, _node, rows, _nodes, _nodeIds);
            _file.Strings(group, _state, rows, _states, _stateIds);
            _file.Numbers(group, _time, rows, _ticks, nanosToTicks: true);
            _file.Numbers(group, _cpu, rows, _cpus);
            _file.Numbers(group, _memory, rows, _memories);
            _file.Numbers(group, _cpuRequest, rows, _cpuRequests, _noCpuRequest);
            _file.Numbers(group, _cpuLimit, rows, _cpuLimits, _noCpuLimit);
            _file.Numbers(group, _memoryRequest, rows, _memoryRequests, _noMemoryRequest);
            _file.Numbers(group, _memoryLimit, rows, _memoryLimits, _noMemoryLimit);
            _file.Numbers(group, _restarts, rows, _restartCounts);
            _file.Numbers(group, _backlog, rows, _backlogs);
            var samples = new PodSample[rows];
            for (var i = 0; i < rows; i++)
                samples[i] = new PodSample
                {
                    Time = new DateTime(_ticks[i], DateTimeKind.Utc), Daemon = _daemons.Text(_daemonIds[i])!, Pod = _pods.Text(_podIds[i])!,
                    Node = _nodes.Text(_nodeIds[i]), State = _states.Text(_stateIds[i])!, CpuCores = BitConverter.Int64BitsToDouble(_cpus[i]),
                    MemoryBytes = _memories[i], CpuRequest = _noCpuRequest[i] ? null : BitConverter.Int64BitsToDouble(_cpuRequests[i]),
                    CpuLimit = _noCpuLimit[i] ? null : BitConverter.Int64BitsToDouble(_cpuLimits[i]),
                    MemoryRequest = _noMemoryRequest[i] ? null : _memoryRequests[i], MemoryLimit = _noMemoryLimit[i] ? null : _memoryLimits[i],
                    Restarts = (int)_restartCounts[i], Backlog = _backlogs[i],
                };
            return samples;
        }

        private void Grow(int rows)
        {
            if (_ticks.Length >= rows) return;
            (_daemonIds, _podIds, _nodeIds, _stateIds) = (new int[rows], new int[rows], new int[rows], new int[rows]);
            (_ticks, _cpus, _memories, _cpuRequests, _cpuLimits) = (new long[rows], new long[rows], new long[rows], new long[rows], new long[rows]);
            (_memoryRequests, _memoryLimits, _restartCounts, _backlogs) = (new long[rows], new long[rows], new long[rows], new long[rows]);
            (_noCpuRequest, _noCpuLimit, _noMemoryRequest, _noMemoryLimit) = (new bool[rows], new bool[rows], new bool[rows], new bool[rows]);
        }
    }
}
