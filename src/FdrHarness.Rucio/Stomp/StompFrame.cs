using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace FdrHarness.Rucio.Stomp;

/// <summary>One STOMP 1.2 frame. Headers keep their order; when a header repeats, the first value counts (spec).</summary>
public sealed class StompFrame(string command, IReadOnlyList<KeyValuePair<string, string>>? headers = null, ReadOnlyMemory<byte> body = default)
{
    public string Command { get; } = command;
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; } = headers ?? [];
    public ReadOnlyMemory<byte> Body { get; } = body;

    public string? this[string name]
    {
        get
        {
            foreach (var kv in Headers) if (kv.Key == name) return kv.Value;
            return null;
        }
    }

    public string BodyText => Encoding.UTF8.GetString(Body.Span);

    public override string ToString() => $"{Command} ({Headers.Count} headers, {Body.Length} bytes)";
}

/// <summary>A frame the peer sent that STOMP 1.2 does not allow (fatal for the connection).</summary>
public sealed class StompProtocolException(string message) : Exception(message);

/// <summary>
/// STOMP 1.2 frame codec. Writing: headers escaped (\\r \\n \\c \\\\) except in CONNECT/CONNECTED, content-length always
/// set when there is a body. Reading: tolerates fragments (returns false until a whole frame is buffered), EOLs between
/// frames are heart-beats, CR LF or LF line ends, body by content-length when given, otherwise up to the NUL.
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

    /// <summary>
    /// Reads the next frame or heart-beat from the front of <paramref name="buffer"/>, advancing it past what was read.
    /// Returns false (buffer untouched) when more bytes are needed.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out StompFrame? frame)
    {
        frame = null;
        var r = new SequenceReader<byte>(buffer);
        // EOLs before a frame are heart-beats: consume one per call so the caller can count them.
        if (r.TryPeek(out var first))
        {
            if (first == (byte)'\n') { buffer = buffer.Slice(1); return true; }
            if (first == (byte)'\r')
            {
                if (r.Remaining < 2) return false;
                r.Advance(1);
                r.TryPeek(out var second);
                if (second != (byte)'\n') throw new StompProtocolException("CR not followed by LF");
                buffer = buffer.Slice(2);
                return true;
            }
        }
        else return false;

        if (!TryLine(ref r, out var command)) return false;
        if (command.Length == 0) throw new StompProtocolException("empty command");
        var unescape = command != "CONNECTED" && command != "CONNECT";
        var headers = new List<KeyValuePair<string, string>>();
        long? length = null;
        while (true)
        {
            if (!TryLine(ref r, out var line)) return false;
            if (line.Length == 0) break;
            var colon = line.IndexOf(':');
            if (colon < 0) throw new StompProtocolException($"header without a colon in {command}");
            var key = unescape ? Unescape(line[..colon]) : line[..colon];
            var value = unescape ? Unescape(line[(colon + 1)..]) : line[(colon + 1)..];
            if (key == "content-length" && length is null)
            {
                if (!long.TryParse(value, out var l) || l < 0) throw new StompProtocolException($"bad content-length '{value}'");
                length = l;
            }
            headers.Add(new(key, value));
        }

        ReadOnlyMemory<byte> body;
        if (length is { } len)
        {
            if (r.Remaining < len + 1) return false;
            var b = r.UnreadSequence.Slice(0, len);
            body = b.ToArray();
            r.Advance(len);
            if (!r.TryRead(out var nul) || nul != 0) throw new StompProtocolException("frame body not followed by NUL");
        }
        else
        {
            if (!r.TryReadTo(out ReadOnlySequence<byte> b, 0, advancePastDelimiter: true)) return false;
            body = b.ToArray();
        }
        buffer = buffer.Slice(r.Position);
        frame = new StompFrame(command, headers, body);
        return true;
    }

    private static bool TryLine(ref SequenceReader<byte> r, out string line)
    {
        line = "";
        if (!r.TryReadTo(out ReadOnlySequence<byte> raw, (byte)'\n', advancePastDelimiter: true)) return false;
        if (raw.Length > 0 && raw.Slice(raw.Length - 1).FirstSpan[0] == (byte)'\r') raw = raw.Slice(0, raw.Length - 1);
        line = raw.IsSingleSegment ? Utf8.GetString(raw.FirstSpan) : Utf8.GetString(raw.ToArray());
        return true;
    }

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

    public static string Unescape(string s)
    {
        if (s.IndexOf('\\') < 0) return s;
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\') { sb.Append(s[i]); continue; }
            if (++i >= s.Length) throw new StompProtocolException("header ends inside an escape");
            sb.Append(s[i] switch
            {
                '\\' => '\\',
                'r' => '\r',
                'n' => '\n',
                'c' => ':',
                _ => throw new StompProtocolException($"undefined escape \\{s[i]}"),
            });
        }
        return sb.ToString();
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
