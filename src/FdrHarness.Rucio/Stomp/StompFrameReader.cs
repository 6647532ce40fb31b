using System.Buffers;
using System.Globalization;
using System.Text;

namespace FdrHarness.Rucio.Stomp;

/// <summary>
/// Reads STOMP 1.2 frames from a byte stream, keeping memory bounded whatever the peer sends. Tolerates fragments (false
/// until a whole frame is buffered); EOLs between frames are heart-beats; CR LF or LF line ends; body by content-length
/// when given, otherwise up to the NUL.
/// <para>Limits: a frame's command and headers may take <see cref="MaxHeaderBytes"/>; past that the rest of the frame is
/// skipped up to its NUL as it streams in, and the frame is returned with the headers read within the limit (its ack id,
/// when that came first) and <see cref="StompFrame.Error"/> set. The connection stays: dropping it would have the broker
/// send the same frame again on the next one, for ever. A body that would make the frame larger than
/// <see cref="MaxFrameBytes"/> is skipped the same way, never buffered, and the frame is returned with its headers, an
/// empty body and the error; so are frames with invalid UTF-8 or malformed lines in their headers. Stateful: one reader per
/// connection.</para>
/// </summary>
public sealed class StompFrameReader(int maxHeaderBytes = StompFrameReader.DefaultMaxHeaderBytes, int maxFrameBytes = StompFrameReader.DefaultMaxFrameBytes)
{
    /// <summary>ActiveMQ's own header limits are far below this; a Hermes MESSAGE's headers take about 300 bytes.</summary>
    public const int DefaultMaxHeaderBytes = 64 * 1024;

    /// <summary>A Hermes message is well under 4 KiB; 1 MiB leaves room for large payloads of other producers.</summary>
    public const int DefaultMaxFrameBytes = 1024 * 1024;

    private static readonly UTF8Encoding Lenient = new(false, false);

    public int MaxHeaderBytes { get; } = maxHeaderBytes > 0 ? maxHeaderBytes : throw new ArgumentOutOfRangeException(nameof(maxHeaderBytes));
    public int MaxFrameBytes { get; } = maxFrameBytes > 0 ? maxFrameBytes : throw new ArgumentOutOfRangeException(nameof(maxFrameBytes));

    // A frame whose body is being skipped: returned once its NUL has gone by. _skipLeft > 0: body bytes left to drop
    // (content-length), then up to the NUL.
    private StompFrame? _skipping;
    private long _skipLeft;

    /// <summary>Bytes dropped so far because a frame's headers or body were over the limits or out of step.</summary>
    public long BytesSkipped { get; private set; }

    /// <summary>
    /// Reads the next frame or heart-beat (<paramref name="frame"/> null) from the front of <paramref name="buffer"/>,
    /// advancing it past what was read. False when more bytes are needed: the buffer is then untouched, except for bytes
    /// of a body being skipped, which are consumed.
    /// </summary>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, out StompFrame? frame)
    {
        frame = null;
        if (_skipping is not null) return Skip(ref buffer, out frame);

        var r = new SequenceReader<byte>(buffer);
        if (!r.TryPeek(out var first)) return false;
        // EOLs before a frame are heart-beats: consume one per call so the caller can count them.
        if (first == (byte)'\n') { buffer = buffer.Slice(1); return true; }
        if (first == (byte)'\r')
        {
            if (!r.TryPeek(1, out var second)) return false;
            if (second == (byte)'\n') { buffer = buffer.Slice(2); return true; }
            // A CR not followed by LF starts a (garbage) command line.
        }

        // STOMP allows no NUL before a frame's blank line: one there ends a garbage frame and puts the reader back in step.
        var nulAt = buffer.Slice(0, Math.Min(buffer.Length, MaxHeaderBytes + 1L)).PositionOf((byte)0) is { } p ? buffer.Slice(0, p).Length : -1;
        string? error = null;
        if (!TryLine(ref r, out var commandLine))
            return nulAt >= 0 ? Garbage(ref buffer, nulAt, "", [], out frame) : NeedMore(ref buffer, buffer.Start, "", [], out frame);
        var command = Text(commandLine, ref error);
        if (nulAt >= 0 && nulAt < r.Consumed) return Garbage(ref buffer, nulAt, command, [], out frame);
        var unescape = command is not ("CONNECTED" or "CONNECT");
        var headers = new List<KeyValuePair<string, string>>();
        long? length = null;
        var lengthSeen = false;
        while (true)
        {
            var lineStart = r.Position;
            if (!TryLine(ref r, out var raw)) return nulAt >= 0 ? Garbage(ref buffer, nulAt, command, headers, out frame) : NeedMore(ref buffer, lineStart, command, headers, out frame);
            if (nulAt >= 0 && nulAt < r.Consumed) return Garbage(ref buffer, nulAt, command, headers, out frame);
            if (r.Consumed > MaxHeaderBytes) return HeadersOverLimit(ref buffer, lineStart, command, headers, out frame);
            if (raw.IsEmpty) break;
            var line = Text(raw, ref error);
            var colon = line.IndexOf(':');
            if (colon < 0) { error ??= "a header line without a colon"; continue; }
            string key = line[..colon], value = line[(colon + 1)..];
            if (unescape && !(StompCodec.TryUnescape(key, out key) & StompCodec.TryUnescape(value, out value)))
                error ??= "an undefined escape sequence in a header";
            if (key == "content-length" && !lengthSeen)
            {
                lengthSeen = true;
                if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var l)) length = l;
                else error ??= $"a content-length that is not a number ({Quote(value)})";
            }
            headers.Add(new(key, value));
        }
        var headerBytes = r.Consumed;

        if (length is { } len)
        {
            if (len >= MaxFrameBytes || headerBytes + len + 1 > MaxFrameBytes)
                return StartSkip(ref buffer, r.Position, new StompFrame(command, headers, default,
                    error ?? $"a {len}-byte body, over the {MaxFrameBytes}-byte frame limit") { Size = headerBytes }, len, out frame);
            if (r.Remaining < len + 1) return false;
            var body = r.UnreadSequence.Slice(0, len);
            r.Advance(len);
            r.TryRead(out var nul);
            if (nul != 0)
            {
                // The content-length was wrong: the frame ends at the next NUL, whatever came before it is dropped.
                r.Rewind(1);
                return StartSkip(ref buffer, r.Position, new StompFrame(command, headers, default,
                    error ?? "a body not followed by NUL at its content-length") { Size = headerBytes }, 0, out frame);
            }
            frame = Frame(command, headers, body, error, headerBytes);
        }
        else
        {
            if (!r.TryReadTo(out ReadOnlySequence<byte> body, 0, advancePastDelimiter: true))
            {
                if (headerBytes + r.Remaining + 1 <= MaxFrameBytes) return false;
                return StartSkip(ref buffer, r.Position, new StompFrame(command, headers, default,
                    error ?? $"a body over the {MaxFrameBytes}-byte frame limit") { Size = headerBytes }, 0, out frame);
            }
            if (headerBytes + body.Length + 1 > MaxFrameBytes)
                frame = Frame(command, headers, default, error ?? $"a {body.Length}-byte body, over the {MaxFrameBytes}-byte frame limit", headerBytes);
            else frame = Frame(command, headers, body, error, headerBytes);
        }
        buffer = buffer.Slice(r.Position);
        return true;
    }

    private static bool Garbage(ref ReadOnlySequence<byte> buffer, long nulAt, string command, List<KeyValuePair<string, string>> headers, out StompFrame? frame)
    {
        frame = new StompFrame(command, headers, default, "a NUL inside the command or headers") { Size = nulAt + 1 };
        buffer = buffer.Slice(nulAt + 1);
        return true;
    }

    /// <summary>An incomplete line: wait for more, unless the frame's command and headers are over the limit already.</summary>
    private bool NeedMore(ref ReadOnlySequence<byte> buffer, SequencePosition lineStart, string command, List<KeyValuePair<string, string>> headers, out StompFrame? frame)
    {
        frame = null;
        return buffer.Length > MaxHeaderBytes && HeadersOverLimit(ref buffer, lineStart, command, headers, out frame);
    }

    /// <summary>The headers read so far are kept (an ack id among them can be acknowledged); the rest goes, up to the frame's NUL.</summary>
    private bool HeadersOverLimit(ref ReadOnlySequence<byte> buffer, SequencePosition lineStart, string command, List<KeyValuePair<string, string>> headers, out StompFrame? frame) =>
        StartSkip(ref buffer, lineStart, new StompFrame(command, headers, default, $"command and headers over the {MaxHeaderBytes}-byte limit")
        { Size = buffer.Slice(0, lineStart).Length }, 0, out frame);

    private static StompFrame Frame(string command, List<KeyValuePair<string, string>> headers, ReadOnlySequence<byte> body, string? error, long headerBytes) =>
        new(command, headers, error is null ? body.ToArray() : default, error) { Size = headerBytes + (error is null ? body.Length : 0) };

    private bool StartSkip(ref ReadOnlySequence<byte> buffer, SequencePosition bodyStart, StompFrame frame, long bodyBytes, out StompFrame? done)
    {
        _skipping = frame;
        _skipLeft = bodyBytes;
        buffer = buffer.Slice(bodyStart);
        return Skip(ref buffer, out done);
    }

    private bool Skip(ref ReadOnlySequence<byte> buffer, out StompFrame? frame)
    {
        frame = null;
        if (_skipLeft > 0)
        {
            var n = Math.Min(_skipLeft, buffer.Length);
            buffer = buffer.Slice(n);
            _skipLeft -= n;
            BytesSkipped += n;
            if (_skipLeft > 0) return false;
        }
        if (buffer.PositionOf((byte)0) is not { } nul)
        {
            BytesSkipped += buffer.Length;
            buffer = buffer.Slice(buffer.End);
            return false;
        }
        var upTo = buffer.GetPosition(1, nul);
        BytesSkipped += buffer.Slice(0, upTo).Length - 1;
        buffer = buffer.Slice(upTo);
        frame = _skipping;
        _skipping = null;
        return true;
    }

    private static bool TryLine(ref SequenceReader<byte> r, out ReadOnlySequence<byte> line)
    {
        if (!r.TryReadTo(out line, (byte)'\n', advancePastDelimiter: true)) return false;
        if (line.Length > 0 && line.Slice(line.Length - 1).FirstSpan[0] == (byte)'\r') line = line.Slice(0, line.Length - 1);
        return true;
    }

    // Invalid UTF-8 is an error of the frame, not of the connection: the text keeps U+FFFD where the bytes were bad.
    private static string Text(in ReadOnlySequence<byte> raw, ref string? error)
    {
        var span = raw.IsSingleSegment ? raw.FirstSpan : raw.ToArray();
        if (!System.Text.Unicode.Utf8.IsValid(span)) error ??= "invalid UTF-8 in the headers";
        return Lenient.GetString(span);
    }

    private static string Quote(string s) => s.Length <= 20 ? s : s[..20] + "…";
}
