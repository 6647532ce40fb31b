using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Threading.Channels;
using FdrHarness.Rucio.Stomp;

namespace FdrHarness.Rucio.Tests;

/// <summary>
/// The STOMP tests stream megabytes through the codec: run alone, so that tests elsewhere in this assembly that still
/// measure wall-clock time (LiveRunTests) are not starved of the two cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StompCollection
{
    public const string Name = "STOMP, run alone";
}

/// <summary>
/// A STOMP broker at the other end of in-memory pipes, answering as ActiveMQ 5.17 does in
/// ../shared/reference/rucio-1.31.7-wire/190_hermes_frames.txt (CONNECTED, RECEIPT for frames that ask for one, an EOL
/// after every NUL, escaped header values) and sending whatever the test scripts, well formed or not.
/// Each connection the client opens is handed to the test through <see cref="Connections"/>.
/// </summary>
internal sealed class ScriptedBroker
{
    private readonly Channel<BrokerConnection> _connections = Channel.CreateUnbounded<BrokerConnection>();

    /// <summary>The heart-beat header of CONNECTED ("0,0": the broker neither sends nor expects any).</summary>
    public string HeartBeat { get; init; } = "0,0";
    /// <summary>False: the broker accepts the connection and never answers CONNECT.</summary>
    public bool AnswerConnect { get; init; } = true;

    public ChannelReader<BrokerConnection> Connections => _connections.Reader;

    public Func<CancellationToken, ValueTask<Stream>> Transport => _ =>
    {
        var c = new BrokerConnection(this);
        _connections.Writer.TryWrite(c);
        return ValueTask.FromResult<Stream>(c.ClientSide);
    };

    public async Task<BrokerConnection> NextConnectionAsync() => await _connections.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
}

internal sealed class BrokerConnection
{
    private readonly Pipe _toClient = new(new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024));
    private readonly Pipe _fromClient = new();
    private readonly Channel<StompFrame> _frames = Channel.CreateUnbounded<StompFrame>();
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly ScriptedBroker _broker;
    private long _messageSeq;

    public BrokerConnection(ScriptedBroker broker)
    {
        _broker = broker;
        ClientSide = new DuplexStream(this);
        _ = Task.Run(ServeAsync);
    }

    public Stream ClientSide { get; }

    /// <summary>Bytes the client has read from this connection.</summary>
    public long BytesReadByClient => Interlocked.Read(ref _bytesRead);
    private long _bytesRead;

    /// <summary>Every frame the client sent, in order.</summary>
    public ChannelReader<StompFrame> FromClient => _frames.Reader;

    /// <summary>The next frame the client sent that is not an ACK.</summary>
    public async Task<StompFrame> NextCommandAsync()
    {
        while (true)
        {
            var f = await _frames.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            if (f.Command != "ACK") return f;
        }
    }

    /// <summary>Completes when the client has closed its side.</summary>
    public Task Closed => _frames.Reader.Completion;

    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        await _writing.WaitAsync();
        try
        {
            await _toClient.Writer.WriteAsync(bytes);
        }
        finally { _writing.Release(); }
    }

    /// <summary>A MESSAGE as ActiveMQ delivers a Hermes one to a client-individual subscriber; returns its ack id.</summary>
    public async Task<string> SendMessageAsync(string body, string subscription = "hermes", string? eventType = null)
    {
        var n = Interlocked.Increment(ref _messageSeq);
        var ack = $"ID:broker-44167-1796171897541-4:{n}";
        var bytes = Encoding.UTF8.GetBytes(body);
        var frame = new StompFrame("MESSAGE",
        [
            new("content-length", bytes.Length.ToString(CultureInfo.InvariantCulture)), new("expires", "0"),
            new("destination", "/topic/rucio.events"), new("ack", ack), new("subscription", subscription), new("priority", "4"),
            new("event_type", eventType ?? "transfer-done"), new("message-id", $"ID:broker-44167-1796171897541-3:{n}:-1:1:1"),
            new("persistent", "true"), new("timestamp", "1796172165362"),
        ], bytes);
        await SendRawAsync(Frame(frame));
        return ack;
    }

    /// <summary>Ends the connection from the broker's side.</summary>
    public void Close() => _toClient.Writer.Complete();

    private static byte[] Frame(StompFrame f)
    {
        var w = new ArrayBufferWriter<byte>();
        StompCodec.Write(w, f);
        w.Write("\n"u8); // ActiveMQ sends an EOL after every NUL
        return w.WrittenSpan.ToArray();
    }

    private async Task ServeAsync()
    {
        var reader = new StompFrameReader();
        var input = _fromClient.Reader;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                var buffer = result.Buffer;
                while (reader.TryRead(ref buffer, out var f))
                {
                    if (f is null) continue;
                    _frames.Writer.TryWrite(f);
                    if (f.Command is "CONNECT" or "STOMP")
                    {
                        if (_broker.AnswerConnect)
                            await SendRawAsync(Frame(new StompFrame("CONNECTED",
                                [new("server", "ActiveMQ/5.17.2"), new("heart-beat", _broker.HeartBeat), new("session", "ID:broker-1"), new("version", "1.2")])));
                    }
                    else if (f["receipt"] is { } receipt)
                        await SendRawAsync(Frame(new StompFrame("RECEIPT", [new("receipt-id", receipt)])));
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted) break;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or StompProtocolException) { }
        finally
        {
            _frames.Writer.TryComplete();
            await input.CompleteAsync();
        }
    }

    /// <summary>The client's end: reads what the broker sends, writes into what the broker reads.</summary>
    private sealed class DuplexStream(BrokerConnection c) : Stream
    {
        private readonly Stream _in = c._toClient.Reader.AsStream();
        private readonly Stream _out = c._fromClient.Writer.AsStream();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await _in.ReadAsync(buffer, cancellationToken);
            Interlocked.Add(ref c._bytesRead, n);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _out.WriteAsync(buffer, cancellationToken);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _out.WriteAsync(buffer, offset, count, cancellationToken);
        public override Task FlushAsync(CancellationToken cancellationToken) => _out.FlushAsync(cancellationToken);
        public override void Flush() => _out.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                c._toClient.Reader.Complete();
                c._fromClient.Writer.Complete();
            }
            base.Dispose(disposing);
        }

        public override ValueTask DisposeAsync()
        {
            Dispose(true);
            return default;
        }
    }
}
