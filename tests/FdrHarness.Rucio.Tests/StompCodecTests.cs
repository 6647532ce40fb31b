using System.Buffers;
using System.Text;
using FdrHarness.Rucio.Stomp;

namespace FdrHarness.Rucio.Tests;

[Collection(StompCollection.Name)]
public sealed class StompCodecTests
{
    private static List<StompFrame?> ReadAll(byte[] bytes, int chunk, StompFrameReader? reader = null) => Feed(bytes, chunk, reader ?? new StompFrameReader()).Frames;

    /// <summary>Feeds the bytes in fragments of <paramref name="chunk"/>, as a socket may deliver them; Peak = most bytes ever held unread.</summary>
    private static (List<StompFrame?> Frames, long Peak) Feed(byte[] bytes, int chunk, StompFrameReader reader)
    {
        var frames = new List<StompFrame?>();
        var pending = Array.Empty<byte>();
        long peak = 0;
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            pending = [.. pending, .. bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)).ToArray()];
            peak = Math.Max(peak, pending.Length);
            var seq = new ReadOnlySequence<byte>(pending);
            while (reader.TryRead(ref seq, out var f)) frames.Add(f);
            pending = seq.ToArray();
        }
        Assert.Empty(pending);
        return (frames, peak);
    }

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

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

    [Theory]
    [InlineData("MESSAGE\nack:1\nfoo:bad\\t\n\nbody\0", "an undefined escape sequence in a header")]
    [InlineData("MESSAGE\nack:1\ncontent-length:2\n\nabc\0", "a body not followed by NUL at its content-length")]
    [InlineData("MESSAGE\nack:1\nnocolon\n\nbody\0", "a header line without a colon")]
    [InlineData("MESSAGE\nack:1\ncontent-length:-5\n\nbody\0", "a content-length that is not a number (-5)")]
    public void A_malformed_frame_carries_its_error_and_the_next_frame_is_read(string wire, string error)
    {
        foreach (var chunk in new[] { 1, 3, 100 })
        {
            var frames = ReadAll(Bytes(wire + "\nMESSAGE\nack:2\n\ngood\0"), chunk);
            Assert.Equal(3, frames.Count);
            Assert.Equal(error, frames[0]!.Error);
            Assert.Equal("1", frames[0]!["ack"]);          // still acknowledgeable
            Assert.True(frames[0]!.Body.IsEmpty);
            Assert.Null(frames[1]);                          // the EOL between frames
            Assert.Null(frames[2]!.Error);
            Assert.Equal("good", frames[2]!.BodyText);
        }
    }

    [Fact]
    public void Invalid_UTF8_in_headers_is_an_error_of_the_frame_not_a_crash()
    {
        // What crashed the run before (DecoderFallbackException): bytes that are not UTF-8 in a header and in the command.
        byte[] wire = [.. "MESSAGE\nack:7\nevent_type:"u8, 0xFF, 0xFE, 0xC3, .. "\n\n{}\0"u8, 0x80, 0x81, .. "\n\n\0"u8, .. "MESSAGE\n\nok\0"u8];
        var frames = ReadAll(wire, 2);
        Assert.Equal(3, frames.Count);
        Assert.Equal("invalid UTF-8 in the headers", frames[0]!.Error);
        Assert.Equal("7", frames[0]!["ack"]);
        Assert.Equal("invalid UTF-8 in the headers", frames[1]!.Error);
        Assert.Equal("ok", frames[2]!.BodyText);
    }

    [Fact]
    public void A_NUL_before_the_end_of_the_headers_ends_a_garbage_frame()
    {
        var frames = ReadAll(Bytes("GARB\0AGE\nwith:nul\0\0MESSAGE\nack:3\n\nok\0"), 4);
        Assert.Equal(4, frames.Count);
        Assert.All(frames.Take(3), f => Assert.Equal("a NUL inside the command or headers", f!.Error));
        Assert.Equal("3", frames[3]!["ack"]);
        Assert.Equal("ok", frames[3]!.BodyText);
    }

    [Fact]
    public void Seeded_garbage_never_throws_and_the_reader_is_back_in_step_after_a_NUL()
    {
        var rng = new Random(20261202);
        for (var round = 0; round < 200; round++)
        {
            var garbage = new byte[rng.Next(1, 4000)];
            rng.NextBytes(garbage);
            var frames = ReadAll([.. garbage, 0, .. "MESSAGE\nack:x\n\n{\"a\":1}\0"u8], rng.Next(1, 300));
            var last = frames[^1]!;
            Assert.Equal(("MESSAGE", "x", null, "{\"a\":1}"), (last.Command, last["ack"], last.Error, last.BodyText));
        }
    }

    [Fact]
    public void Headers_over_the_limit_are_skipped_to_the_frames_NUL_keeping_what_came_within_and_the_reader_stays_in_step()
    {
        var reader = new StompFrameReader(maxHeaderBytes: 1024, maxFrameBytes: 4096);
        // One header line far over the limit (after the ack id), then the rest of that frame, then a good frame.
        var wire = Bytes("MESSAGE\nack:ID\\c1\nx:" + new string('a', 100_000) + "\nevent_type:late\n\n{\"a\":1}\0\nMESSAGE\nack:2\n\nok\0");
        var (frames, peak) = Feed(wire, 100, reader);

        Assert.Equal(3, frames.Count);
        Assert.Equal("command and headers over the 1024-byte limit", frames[0]!.Error);
        Assert.Equal("ID:1", frames[0]!["ack"]);       // read within the limit: the consumer can acknowledge it
        Assert.Null(frames[0]!["event_type"]);          // past the limit: skipped
        Assert.Null(frames[1]);                         // the EOL between frames
        Assert.Equal(("2", null, "ok"), (frames[2]!["ack"], frames[2]!.Error, frames[2]!.BodyText));
        Assert.InRange(peak, 0, 1024 + 100);            // never more than the limit and one read held
        Assert.True(reader.BytesSkipped > 100_000);
    }

    [Fact]
    public void Endless_headers_are_dropped_as_they_stream_in_with_memory_bounded_by_the_limit()
    {
        var reader = new StompFrameReader(maxHeaderBytes: 1024, maxFrameBytes: 4096);
        var (frames, peak) = Feed(Bytes("MESSAGE\nx:" + new string('a', 1_000_000)), 100, reader);
        Assert.Empty(frames);
        Assert.InRange(peak, 0, 1024 + 100);
        Assert.True(reader.BytesSkipped > 990_000);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_body_over_the_frame_limit_is_skipped_as_it_streams_in(bool withLength)
    {
        const int body = 3_000_000;
        var reader = new StompFrameReader(maxHeaderBytes: 1024, maxFrameBytes: 64 * 1024);
        var head = withLength ? $"MESSAGE\nack:big\ncontent-length:{body}\n\n" : "MESSAGE\nack:big\n\n";
        byte[] wire = [.. Bytes(head), .. Enumerable.Repeat((byte)'x', body), 0, .. "\nMESSAGE\nack:2\n\nsmall\0"u8];
        var (frames, peak) = Feed(wire, 4096, reader);
        Assert.Equal(3, frames.Count);
        Assert.Equal(withLength ? $"a {body}-byte body, over the 65536-byte frame limit" : "a body over the 65536-byte frame limit", frames[0]!.Error);
        Assert.Equal("big", frames[0]!["ack"]);
        Assert.Equal("small", frames[2]!.BodyText);
        Assert.InRange(peak, 0, 64 * 1024 + 4096);   // never more than the frame limit and one read
        Assert.Equal(body, reader.BytesSkipped);
    }

    [Fact]
    public void A_huge_content_length_is_skipped_without_buffering()
    {
        // Trusted as the body's length (bodies may hold NULs): what follows is skipped too, and nothing is held.
        var reader = new StompFrameReader();
        var (frames, peak) = Feed(Bytes("MESSAGE\ncontent-length:9223372036854775807\n\nbody\0\nMESSAGE\n\nnext\0"), 7, reader);
        Assert.Empty(frames);
        Assert.Equal(20, reader.BytesSkipped);
        Assert.InRange(peak, 0, 52);
    }

    [Fact]
    public void Incomplete_frame_waits_for_more()
    {
        var seq = new ReadOnlySequence<byte>("MESSAGE\ncontent-length:10\n\n12345"u8.ToArray());
        Assert.False(new StompFrameReader().TryRead(ref seq, out _));
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
