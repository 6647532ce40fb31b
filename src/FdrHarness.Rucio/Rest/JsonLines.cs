using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace FdrHarness.Rucio.Rest;

/// <summary>application/x-json-stream: one JSON value per line, read as it arrives (never the whole body at once).</summary>
public static class JsonLines
{
    public static async IAsyncEnumerable<JsonElement> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(ct).ConfigureAwait(false);
                var buffer = result.Buffer;
                var items = new List<JsonElement>();
                while (TryLine(ref buffer, out var line)) Parse(line, items);
                if (result.IsCompleted && !buffer.IsEmpty) { Parse(buffer, items); buffer = buffer.Slice(buffer.End); }
                reader.AdvanceTo(buffer.Start, buffer.End);
                foreach (var i in items) yield return i;
                if (result.IsCompleted) yield break;
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static bool TryLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var pos = buffer.PositionOf((byte)'\n');
        if (pos is null) { line = default; return false; }
        line = buffer.Slice(0, pos.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, pos.Value));
        return true;
    }

    private static void Parse(ReadOnlySequence<byte> line, List<JsonElement> into)
    {
        // Blank lines (and the trailing newline of the last record) carry nothing.
        var blank = true;
        foreach (var seg in line)
            foreach (var b in seg.Span)
                if (b is not ((byte)' ' or (byte)'\r' or (byte)'\t')) { blank = false; break; }
        if (blank) return;
        var r = new Utf8JsonReader(line);
        into.Add(JsonElement.ParseValue(ref r));
    }
}
