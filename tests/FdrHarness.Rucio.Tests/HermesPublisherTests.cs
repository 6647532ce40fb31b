using System.Text;
using FdrHarness.Rucio.Double;
using FdrHarness.Rucio.Stomp;

namespace FdrHarness.Rucio.Tests;

/// <summary>The double's hermes frames, byte for byte (the broker round trip is in FdrHarness.Rucio.ContainerTests).</summary>
public sealed class HermesPublisherTests
{
    [Fact]
    public void A_send_frame_carries_hermes_headers_with_values_escaped_as_stomp_1_2_says()
    {
        var body = Encoding.UTF8.GetBytes("""{"event_type": "rule_ok"}""");
        var frame = HermesPublisher.Send("/topic/a:b\\c\r\nd", "RULE_OK", body, "r-1");
        var expected = "SEND\ndestination:/topic/a\\cb\\\\c\\r\\nd\npersistent:true\nevent_type:rule_ok\ncontent-length:25\nreceipt:r-1\n\n" +
                       """{"event_type": "rule_ok"}""" + "\0";
        Assert.Equal(expected, Encoding.UTF8.GetString(frame));
    }

    [Fact]
    public void The_harness_reader_gets_back_what_the_double_sent()
    {
        // Two implementations of one protocol agree: the reader unescapes what the publisher escaped.
        var body = Encoding.UTF8.GetBytes("""{"event_type": "transfer-queued", "payload": {}}""");
        var bytes = new System.Buffers.ReadOnlySequence<byte>(HermesPublisher.Send("/queue/x:y", "transfer-queued", body));
        Assert.True(new StompFrameReader().TryRead(ref bytes, out var frame));
        var f = frame!;
        Assert.Equal("SEND", f.Command);
        Assert.Equal("/queue/x:y", f["destination"]);
        Assert.Equal("transfer-queued", f["event_type"]);
        Assert.Equal("true", f["persistent"]);
        Assert.Equal(body, f.Body.ToArray());
    }
}
