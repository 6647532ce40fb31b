using System.Buffers;
using System.Text;
using FdrHarness.Rucio.Stomp;

namespace FdrHarness.Rucio.Tests;

public sealed class StompCodecTests
{
    private static List<StompFrame?> ReadAll(byte[] bytes, int chunk)
    {
        // Feed the bytes in fragments of `chunk`, as a socket may deliver them.
        var frames = new List<StompFrame?>();
        var pending = Array.Empty<byte>();
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            pending = [.. pending, .. bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)).ToArray()];
            var seq = new ReadOnlySequence<byte>(pending);
            while (StompCodec.TryRead(ref seq, out var f)) frames.Add(f);
            pending = seq.ToArray();
        }
        Assert.Empty(pending);
        return frames;
    }

    [Fact]
    public void Round_trip_escapes_headers_and_sets_content_length()
    {
        var body = "{\"event_type\": \"transfer-done\", \"payload\": {}}\0with a NUL inside"u8.ToArray();
        var frame = new StompFrame("MESSAGE", [new("destination", "/topic/rucio.events"), new("weird:key", "line1\nline2\r\\end"), new("ack", "ID:1:2")], body);
        var bytes = StompCodec.Encode(frame);
        var text = Encoding.UTF8.GetString(bytes);
        Assert.Contains("weird\\ckey:line1\\nline2\\r\\\\end\n", text);
        Assert.Contains($"content-length:{body.Length}\n", text);
        Assert.Contains("ack:ID\\c1\\c2\n", text);

        foreach (var chunk in new[] { 1, 2, 7, 64, bytes.Length })
        {
            var back = Assert.Single(ReadAll(bytes, chunk));
            Assert.NotNull(back);
            Assert.Equal("MESSAGE", back.Command);
            Assert.Equal("line1\nline2\r\\end", back["weird:key"]);
            Assert.Equal("ID:1:2", back["ack"]);
            Assert.Equal(body, back.Body.ToArray());
        }
    }

    [Fact]
    public void Connect_frames_are_not_escaped()
    {
        var bytes = StompCodec.Encode(new StompFrame("CONNECT", [new("passcode", "a:b\\c")]));
        Assert.Equal("CONNECT\npasscode:a:b\\c\n\n\0", Encoding.UTF8.GetString(bytes));
        var back = Assert.Single(ReadAll(Encoding.UTF8.GetBytes("CONNECTED\nversion:1.2\nserver:x:y\n\n\0"), 3));
        Assert.Equal("x:y", back!["server"]);
    }

    [Fact]
    public void Heart_beats_crlf_and_body_without_length()
    {
        var wire = "\n\r\nMESSAGE\r\nsubscription:hermes\r\nack:7\r\n\r\nhello\0\n\nRECEIPT\nreceipt-id:r1\n\n\0"u8.ToArray();
        var frames = ReadAll(wire, 1);
        Assert.Equal(6, frames.Count);
        Assert.Null(frames[0]); // LF heart-beat
        Assert.Null(frames[1]); // CRLF heart-beat
        Assert.Equal("MESSAGE", frames[2]!.Command);
        Assert.Equal("7", frames[2]!["ack"]);
        Assert.Equal("hello", frames[2]!.BodyText);
        Assert.Null(frames[3]);
        Assert.Null(frames[4]);
        Assert.Equal("r1", frames[5]!["receipt-id"]);
    }

    [Fact]
    public void Repeated_header_first_value_wins()
    {
        var f = Assert.Single(ReadAll("MESSAGE\nfoo:World\nfoo:Hello\n\n\0"u8.ToArray(), 5));
        Assert.Equal("World", f!["foo"]);
    }

    [Fact]
    public void Malformed_frames_are_protocol_errors()
    {
        Assert.Throws<StompProtocolException>(() => ReadAll("MESSAGE\nfoo:bad\\t\n\n\0"u8.ToArray(), 100));
        Assert.Throws<StompProtocolException>(() => ReadAll("MESSAGE\ncontent-length:2\n\nabc\0"u8.ToArray(), 100));
        Assert.Throws<StompProtocolException>(() => ReadAll("MESSAGE\nnocolon\n\n\0"u8.ToArray(), 100));
    }

    [Fact]
    public void Incomplete_frame_waits_for_more()
    {
        var seq = new ReadOnlySequence<byte>("MESSAGE\ncontent-length:10\n\n12345"u8.ToArray());
        Assert.False(StompCodec.TryRead(ref seq, out _));
        Assert.Equal(32, seq.Length);
    }

    [Theory]
    [InlineData("10000,10000", 10000, 10000)]
    [InlineData("0,0", 0, 0)]
    [InlineData(null, 0, 0)]
    [InlineData("5000,x", 0, 0)]
    public void Heart_beat_header_parses(string? value, long sx, long sy) =>
        Assert.Equal((sx, sy), StompClient.ParseHeartBeat(value));
}
