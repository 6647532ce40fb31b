using System.Text;
using FdrHarness.Core.Observations;
using FdrHarness.Rucio.Stomp;

namespace FdrHarness.Rucio.Tests;

public sealed class HermesConsumerTests
{
    [Fact]
    public void Transfer_done_message_becomes_a_HermesEvent()
    {
        var body = """
        {"event_type": "transfer-done", "created_at": "2026-11-25 10:58:34.123456",
         "payload": {"activity": "User Subscriptions", "request-id": "abc", "previous-request-id": null, "duration": 12.5,
                     "checksum-adler": "0cc737eb", "file-size": 1024, "bytes": 1024, "protocol": "davs", "scope": "cta", "name": "f1",
                     "dataset": "ds1", "datasetScope": "cta", "src-rse": "ALPHA-DISK", "dst-rse": "GAMMA-SAFE", "reason": "",
                     "transfer-id": "fts-1", "external-host": "https://fts:8446", "account": "root", "retry-count": "2",
                     "submitted_at": "2026-11-25 10:58:00", "started_at": "2026-11-25 10:58:10", "transferred_at": "2026-11-25 10:58:30"}}
        """u8;
        Assert.True(HermesConsumer.TryParse(body, out var e));
        Assert.Equal("transfer-done", e.EventType);
        Assert.Equal(new DateTime(2026, 11, 25, 10, 58, 34, DateTimeKind.Utc).AddTicks(1234560), e.CreatedAt);
        Assert.Equal(DateTimeKind.Utc, e.CreatedAt.Kind);
        Assert.Equal(("cta", "f1", "ALPHA-DISK", "GAMMA-SAFE"), (e.Scope, e.Name, e.SrcRse, e.DstRse));
        Assert.Equal(1024, e.Bytes);
        Assert.Equal(12.5, e.Duration);
        Assert.Equal(2, e.RetryCount);
        Assert.Null(e.PreviousRequestId);
        Assert.Equal("fts-1", e.TransferId);
        Assert.Equal(new DateTime(2026, 11, 25, 10, 58, 30, DateTimeKind.Utc), e.TransferredAt);
    }

    [Theory]
    [InlineData("rule_ok", "RULE_OK")]
    [InlineData("RULE_PROGRESS", "RULE_PROGRESS")]
    [InlineData("datasetlock_ok", "DATASETLOCK_OK")]
    [InlineData("TRANSFER-SUBMITTED", "transfer-submitted")]
    [InlineData("deletion-done", "deletion-done")]
    public void Event_types_take_Rucios_spelling(string wire, string expected) =>
        Assert.Equal(expected, HermesConsumer.NormalizeType(wire));

    [Fact]
    public void Malformed_bodies_are_refused()
    {
        Assert.False(HermesConsumer.TryParse("not json"u8, out _));
        Assert.False(HermesConsumer.TryParse("{\"payload\": {}}"u8, out _));
    }

    [Fact]
    public void Same_body_is_seen_once()
    {
        var seen = new SeenMessages();
        Assert.True(seen.Add(Encoding.UTF8.GetBytes("{\"a\":1}")));
        Assert.False(seen.Add(Encoding.UTF8.GetBytes("{\"a\":1}")));
        Assert.True(seen.Add(Encoding.UTF8.GetBytes("{\"a\":2}")));
    }
}
