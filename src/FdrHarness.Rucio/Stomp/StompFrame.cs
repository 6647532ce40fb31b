using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace FdrHarness.Rucio.Stomp;

/// <summary>One STOMP 1.2 frame. Headers keep their order; when a header repeats, the first value counts (spec).</summary>
public sealed class StompFrame(string command, IReadOnlyList<KeyValuePair<string, string>>? headers = null, ReadOnlyMemory<byte> body = default,
    string? error = null)
{
    public string Command { get; } = command;
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; } = headers ?? [];
    public ReadOnlyMemory<byte> Body { get; } = body;

    /// <summary>
    /// Why the frame could not be read whole (invalid UTF-8 or a malformed line in its headers, a body over the size
    /// limit, a wrong content-length); null for a good frame. Its headers are what could be read, its body is empty.
    /// </summary>
    public string? Error { get; } = error;

    /// <summary>Bytes the frame holds in memory once read (headers as received plus the body kept).</summary>
    public long Size { get; init; }

    public string? this[string name]
    {
        get
        {
            foreach (var kv in Headers) if (kv.Key == name) return kv.Value;
            return null;
        }
    }

    public string BodyText => Encoding.UTF8.GetString(Body.Span);

    public override string ToString() => $"{Command} ({Headers.Count} headers, {Body.Length} bytes{(Error is null ? "" : ", " + Error)})";
}

/// <summary>Bytes from the peer after which no frame boundary can be found within the limits (fatal for the connection).</summary>
public sealed class StompProtocolException(string message) : Exception(message);

/// <summary>
/// STOMP 1.2 frame writing: headers escaped (\\r \\n \\c \\\\) except in CONNECT/CONNECTED, content-length always set
/// when there is a body. Reading is <see cref="StompFrameReader"/>.
/// </summary>
public static class StompCodec
{
    private static readonly Encoding Utf8 = new UTF8Encoding(false, true);

    public static void Write(IBufferWriter<byte> output, StompFrame frame)
    {
        var escape = frame.Command is not ("CONNECT" or "CONNECTED");
        WriteAscii(output, frame.Command);
        WriteByte(output, (byte)'\n');
        var hasLength = false;
        foreach (var (k, v) in frame.Headers)
        {
            if (k == "content-length") { hasLength = true; }
            WriteText(output, escape ? Escape(k) : k);
            WriteByte(output, (byte)':');
            WriteText(output, escape ? Escape(v) : v);
            WriteByte(output, (byte)'\n');
        }
        if (!hasLength && frame.Body.Length > 0)
        {
            WriteAscii(output, "content-length:");
            var span = output.GetSpan(20);
            Utf8Formatter.TryFormat(frame.Body.Length, span, out var n);
            output.Advance(n);
            WriteByte(output, (byte)'\n');
        }
        WriteByte(output, (byte)'\n');
        if (frame.Body.Length > 0) output.Write(frame.Body.Span);
        WriteByte(output, 0);
    }

    public static byte[] Encode(StompFrame frame)
    {
        var w = new ArrayBufferWriter<byte>(256);
        Write(w, frame);
        return w.WrittenSpan.ToArray();
    }

    /// <summary>Heart-beat: a single EOL.</summary>
    public static ReadOnlySpan<byte> HeartBeat => "\n"u8;

    public static string Escape(string s)
    {
        if (s.AsSpan().IndexOfAny("\\\r\n:") < 0) return s;
        var sb = new StringBuilder(s.Length + 8);
        foreach (var c in s)
        {
            // Called for every ACK (ActiveMQ's ack ids contain colons): append chars, do not allocate one string per char.
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\r': sb.Append("\\r"); break;
                case '\n': sb.Append("\\n"); break;
                case ':': sb.Append("\\c"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>Undoes <see cref="Escape"/>; false (and <paramref name="value"/> = <paramref name="s"/>) on an undefined escape.</summary>
    public static bool TryUnescape(string s, out string value)
    {
        value = s;
        if (s.IndexOf('\\') < 0) return true;
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\') { sb.Append(s[i]); continue; }
            if (++i >= s.Length) return false;
            switch (s[i])
            {
                case '\\': sb.Append('\\'); break;
                case 'r': sb.Append('\r'); break;
                case 'n': sb.Append('\n'); break;
                case 'c': sb.Append(':'); break;
                default: return false;
            }
        }
        value = sb.ToString();
        return true;
    }

    private static void WriteByte(IBufferWriter<byte> w, byte b) { w.GetSpan(1)[0] = b; w.Advance(1); }

    private static void WriteAscii(IBufferWriter<byte> w, string s) => WriteText(w, s);

    private static void WriteText(IBufferWriter<byte> w, string s)
    {
        var span = w.GetSpan(Utf8.GetMaxByteCount(s.Length));
        var n = Utf8.GetBytes(s, span);
        w.Advance(n);
    }
}
