using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;

namespace FdrHarness.Rucio.Stomp;

public sealed record StompConnectOptions
{
    public required string Host { get; init; }
    public int Port { get; init; } = 61613;
    public bool UseTls { get; init; }
    /// <summary>The virtual host of the CONNECT frame's host header.</summary>
    public string? VirtualHost { get; init; }
    public string? Login { get; init; }
    public string? Passcode { get; init; }
    /// <summary>ActiveMQ's client-id: needed for a durable topic subscription.</summary>
    public string? ClientId { get; init; }
    /// <summary>Heart-beats we offer to send / want to receive (0: none).</summary>
    public TimeSpan HeartBeatSend { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan HeartBeatReceive { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Largest command + headers of a received frame; past it the rest of the frame is skipped up to its NUL and the frame handed on with <see cref="StompFrame.Error"/>.</summary>
    public int MaxHeaderBytes { get; init; } = StompFrameReader.DefaultMaxHeaderBytes;
    /// <summary>Largest received frame; a larger body is skipped unread and the frame handed on with <see cref="StompFrame.Error"/>.</summary>
    public int MaxFrameBytes { get; init; } = StompFrameReader.DefaultMaxFrameBytes;
    /// <summary>Bytes of MESSAGE frames received but not yet taken from <see cref="StompClient.Messages"/>; past it the client stops
    /// reading the socket (TCP then slows the broker), so a broker that ignores the prefetch cannot fill the memory.</summary>
    public long MaxQueuedBytes { get; init; } = 64L * 1024 * 1024;
    /// <summary>Tests: opens the byte stream to the broker instead of a TCP connection to Host:Port.</summary>
    internal Func<CancellationToken, ValueTask<Stream>>? Transport { get; init; }
    /// <summary>Tests: called when the read loop stops reading because <see cref="MaxQueuedBytes"/> is reached.</summary>
    internal Action? Throttled { get; init; }

    public static StompConnectOptions FromUri(Uri broker) => new()
    {
        Host = broker.Host,
        Port = broker.IsDefaultPort || broker.Port <= 0 ? (broker.Scheme.Contains("ssl", StringComparison.Ordinal) ? 61614 : 61613) : broker.Port,
        UseTls = broker.Scheme is "stomp+ssl" or "stomp+tls" or "stomps" or "ssl",
    };
}

/// <summary>The broker sent an ERROR frame.</summary>
public sealed class StompErrorException(string message) : Exception(message);

/// <summary>
/// A STOMP 1.2 connection: CONNECT/CONNECTED with heart-beat negotiation, SUBSCRIBE, ACK/NACK by ack id, SEND, RECEIPT,
/// DISCONNECT with receipt. One reader loop and one writer loop; the writer coalesces frames queued together (acks) into
/// one socket write and sends an EOL when it has been silent for the negotiated interval. <see cref="Completion"/> ends
/// when the connection dies (peer gone, ERROR, heart-beats missed, a frame whose headers exceed the limit). Frames that
/// cannot be read whole (bad bytes, over the size limit) are counted in <see cref="InvalidFrames"/>; MESSAGE ones are still
/// handed on (with <see cref="StompFrame.Error"/>) so that their ack id can be acknowledged.
/// </summary>
public sealed class StompClient : IAsyncDisposable
{
    private readonly TcpClient? _tcp;
    private readonly Stream _stream;
    private readonly StompConnectOptions _o;
    private readonly StompFrameReader _frames;
    private readonly Channel<StompFrame> _messages = Channel.CreateUnbounded<StompFrame>(new() { SingleWriter = true });
    private readonly MessageReader _messageReader;
    private readonly SemaphoreSlim _space = new(0, 1);
    private long _queuedBytes;
    private int _waitingForSpace;
    private long _invalidFrames;
    private readonly Channel<object> _outgoing = Channel.CreateUnbounded<object>(new() { SingleReader = true });
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _receipts = new();
    private readonly CancellationTokenSource _cts = new();
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastReceived;
    private long _receiptSeq;
    private Task? _reader, _writer, _watchdog;

    private StompClient(TcpClient? tcp, Stream stream, StompConnectOptions o)
    {
        _tcp = tcp;
        _stream = stream;
        _o = o;
        _frames = new StompFrameReader(o.MaxHeaderBytes, o.MaxFrameBytes);
        _messageReader = new MessageReader(this);
    }

    /// <summary>Negotiated intervals: how often we send, how long we accept silence from the broker (0: off).</summary>
    public TimeSpan SendInterval { get; private set; }
    public TimeSpan ReceiveInterval { get; private set; }
    public string? Server { get; private set; }
    public string? Session { get; private set; }
    public long HeartBeatsReceived => Interlocked.Read(ref _heartBeatsReceived);
    private long _heartBeatsReceived;

    /// <summary>Frames that could not be read whole or that a broker does not send (STOMP 1.2: CONNECTED, MESSAGE, RECEIPT, ERROR).</summary>
    public long InvalidFrames => Interlocked.Read(ref _invalidFrames);

    /// <summary>Body bytes dropped unread because their frame was over <see cref="StompConnectOptions.MaxFrameBytes"/>.</summary>
    public long BytesSkipped { get; private set; }

    /// <summary>When a heart-beat or a MESSAGE last came from the broker, as a timestamp of <see cref="StompConnectOptions.Time"/>; 0: never.</summary>
    public long LastHeardTimestamp => Volatile.Read(ref _lastHeard);
    private long _lastHeard;

    /// <summary>The most bytes received and not yet parsed into frames at any moment (tests: memory stays bounded).</summary>
    internal long PeakBufferedBytes => Interlocked.Read(ref _peakBuffered);
    private long _peakBuffered;

    /// <summary>MESSAGE frames in arrival order.</summary>
    public ChannelReader<StompFrame> Messages => _messageReader;

    /// <summary>Ends when the connection is closed; faulted when it broke.</summary>
    public Task Completion => _done.Task;

    public static async Task<StompClient> ConnectAsync(StompConnectOptions o, CancellationToken ct = default)
    {
        var tcp = o.Transport is null ? new TcpClient { NoDelay = true } : null;
        Stream? stream = null;
        try
        {
            using var deadline = new CancellationTokenSource(o.ConnectTimeout, o.Time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
            try
            {
                if (o.Transport is { } open) stream = await open(timeout.Token).ConfigureAwait(false);
                else
                {
                    await tcp!.ConnectAsync(o.Host, o.Port, timeout.Token).ConfigureAwait(false);
                    stream = tcp.GetStream();
                    if (o.UseTls)
                    {
                        var ssl = new SslStream(stream);
                        stream = ssl;
                        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = o.Host }, timeout.Token).ConfigureAwait(false);
                    }
                }
                var client = new StompClient(tcp, stream, o);
                await client.HandshakeAsync(timeout.Token).ConfigureAwait(false);
                return client;
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                throw new IOException($"no CONNECTED from the broker within {o.ConnectTimeout.TotalSeconds:0.#} s");
            }
        }
        catch
        {
            if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
            tcp?.Dispose();
            throw;
        }
    }

    private static string Ms(TimeSpan t) => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    private async Task HandshakeAsync(CancellationToken ct)
    {
        var headers = new List<KeyValuePair<string, string>>
        {
            new("accept-version", "1.2"),
            new("host", _o.VirtualHost ?? _o.Host),
            new("heart-beat", $"{Ms(_o.HeartBeatSend)},{Ms(_o.HeartBeatReceive)}"),
        };
        if (_o.Login is not null) headers.Add(new("login", _o.Login));
        if (_o.Passcode is not null) headers.Add(new("passcode", _o.Passcode));
        if (_o.ClientId is not null) headers.Add(new("client-id", _o.ClientId));
        await _stream.WriteAsync(StompCodec.Encode(new StompFrame("CONNECT", headers)), ct).ConfigureAwait(false);

        var pipe = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        StompFrame? connected = null;
        try
        {
            while (connected is null)
            {
                var result = await pipe.ReadAsync(ct).ConfigureAwait(false);
                var buffer = result.Buffer;
                Peak(buffer.Length);
                while (connected is null && _frames.TryRead(ref buffer, out var f)) connected = f;
                pipe.AdvanceTo(buffer.Start, buffer.End);
                if (connected is null && result.IsCompleted) throw new IOException("the broker closed the connection during CONNECT");
            }
        }
        catch
        {
            await pipe.CompleteAsync().ConfigureAwait(false);
            throw;
        }
        if (connected.Error is not null) Interlocked.Increment(ref _invalidFrames);
        if (connected.Command == "ERROR")
            throw new StompErrorException(connected["message"] ?? connected.BodyText);
        if (connected.Command != "CONNECTED")
        {
            await pipe.CompleteAsync().ConfigureAwait(false);
            throw new StompProtocolException($"expected CONNECTED, got {Printable(connected.Command)}");
        }
        Server = connected["server"];
        Session = connected["session"];

        // heart-beat negotiation (spec: max of what one side offers and the other wants; 0 on either side: none).
        var (sx, sy) = ParseHeartBeat(connected["heart-beat"]);
        long cx = (long)_o.HeartBeatSend.TotalMilliseconds, cy = (long)_o.HeartBeatReceive.TotalMilliseconds;
        SendInterval = cx == 0 || sy == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Max(cx, sy));
        ReceiveInterval = sx == 0 || cy == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Max(sx, cy));

        _lastReceived = _o.Time.GetTimestamp();
        _reader = Task.Run(() => ReadLoopAsync(pipe));
        _writer = Task.Run(WriteLoopAsync);
        if (ReceiveInterval > TimeSpan.Zero) _watchdog = Task.Run(WatchdogAsync);
    }

    private void Peak(long buffered)
    {
        if (buffered > _peakBuffered) Interlocked.Exchange(ref _peakBuffered, buffered); // one reader at a time: no race to lose
    }

    internal static (long, long) ParseHeartBeat(string? value)
    {
        if (string.IsNullOrEmpty(value)) return (0, 0);
        var parts = value.Split(',');
        return parts.Length == 2 && long.TryParse(parts[0], out var a) && long.TryParse(parts[1], out var b) ? (a, b) : (0, 0);
    }

    private async Task ReadLoopAsync(PipeReader pipe)
    {
        try
        {
            while (true)
            {
                // A consumer slower than the broker: stop reading (TCP pushes back) until it has taken enough.
                while (Volatile.Read(ref _queuedBytes) > _o.MaxQueuedBytes)
                {
                    Volatile.Write(ref _waitingForSpace, 1);
                    _o.Throttled?.Invoke();
                    await _space.WaitAsync(_cts.Token).ConfigureAwait(false);
                    Volatile.Write(ref _waitingForSpace, 0);
                    Volatile.Write(ref _lastReceived, _o.Time.GetTimestamp()); // the silence was ours
                }
                var result = await pipe.ReadAsync(_cts.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                if (!buffer.IsEmpty) Volatile.Write(ref _lastReceived, _o.Time.GetTimestamp());
                Peak(buffer.Length);
                while (_frames.TryRead(ref buffer, out var frame))
                {
                    if (frame is null)
                    {
                        Interlocked.Increment(ref _heartBeatsReceived);
                        Volatile.Write(ref _lastHeard, _o.Time.GetTimestamp());
                        continue;
                    }
                    if (frame.Error is not null) Interlocked.Increment(ref _invalidFrames);
                    switch (frame.Command)
                    {
                        case "MESSAGE":
                            Volatile.Write(ref _lastHeard, _o.Time.GetTimestamp());
                            Interlocked.Add(ref _queuedBytes, frame.Size);
                            _messages.Writer.TryWrite(frame);
                            break;
                        case "RECEIPT":
                            if (frame["receipt-id"] is { } id && _receipts.TryRemove(id, out var tcs)) tcs.TrySetResult();
                            break;
                        case "ERROR":
                            throw new StompErrorException(Printable(frame["message"] ?? frame.BodyText));
                        default:
                            if (frame.Error is null) Interlocked.Increment(ref _invalidFrames);
                            break;
                    }
                }
                BytesSkipped = _frames.BytesSkipped;
                pipe.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted) throw new IOException("the broker closed the connection");
            }
        }
        catch (Exception e)
        {
            Fail(e);
        }
        finally
        {
            await pipe.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task WriteLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        var reader = _outgoing.Reader;
        try
        {
            while (true)
            {
                if (!reader.TryPeek(out _))
                {
                    var wait = reader.WaitToReadAsync(_cts.Token).AsTask();
                    if (SendInterval > TimeSpan.Zero)
                    {
                        var beat = Task.Delay(SendInterval, _o.Time, _cts.Token);
                        if (await Task.WhenAny(wait, beat).ConfigureAwait(false) == beat && !reader.TryPeek(out _))
                        {
                            await _stream.WriteAsync(StompCodec.HeartBeat.ToArray(), _cts.Token).ConfigureAwait(false);
                            await _stream.FlushAsync(_cts.Token).ConfigureAwait(false);
                            continue;
                        }
                    }
                    if (!await wait.ConfigureAwait(false)) return;
                }
                // Everything queued now goes out in one write.
                buffer.ResetWrittenCount();
                var flushes = new List<TaskCompletionSource>();
                while (buffer.WrittenCount < 256 * 1024 && reader.TryRead(out var item))
                {
                    if (item is StompFrame f) StompCodec.Write(buffer, f);
                    else if (item is TaskCompletionSource t) flushes.Add(t);
                }
                await _stream.WriteAsync(buffer.WrittenMemory, _cts.Token).ConfigureAwait(false);
                await _stream.FlushAsync(_cts.Token).ConfigureAwait(false);
                foreach (var t in flushes) t.TrySetResult();
            }
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private async Task WatchdogAsync()
    {
        try
        {
            // Twice the interval of silence and the broker is gone (a half-open TCP connection never says so itself).
            var limit = ReceiveInterval * 2;
            while (!_cts.IsCancellationRequested)
            {
                await Task.Delay(ReceiveInterval, _o.Time, _cts.Token).ConfigureAwait(false);
                if (Volatile.Read(ref _waitingForSpace) == 0 && _o.Time.GetElapsedTime(Volatile.Read(ref _lastReceived)) > limit)
                {
                    Fail(new IOException($"no heart-beat from the broker for {limit.TotalSeconds:0.#} s"));
                    return;
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private void Fail(Exception e)
    {
        if (_cts.IsCancellationRequested && e is OperationCanceledException) e = new IOException("connection closed");
        _messages.Writer.TryComplete(e);
        _outgoing.Writer.TryComplete();
        foreach (var r in _receipts.Values) r.TrySetException(e);
        if (e is OperationCanceledException or ObjectDisposedException && _cts.IsCancellationRequested) _done.TrySetResult();
        else _done.TrySetException(e);
        try { _cts.Cancel(); } catch (ObjectDisposedException) { }
        try { _tcp?.Client?.Close(0); } catch (ObjectDisposedException) { }
    }

    private void Enqueue(StompFrame f)
    {
        if (!_outgoing.Writer.TryWrite(f)) throw new IOException("the STOMP connection is closed", Completion.Exception);
    }

    private Task WithReceipt(List<KeyValuePair<string, string>> headers, string command, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        var id = "r" + Interlocked.Increment(ref _receiptSeq).ToString(CultureInfo.InvariantCulture);
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _receipts[id] = tcs;
        headers.Add(new("receipt", id));
        Enqueue(new StompFrame(command, headers, body));
        return tcs.Task.WaitAsync(ct);
    }

    /// <summary>SUBSCRIBE; with <paramref name="receipt"/> the task ends when the broker confirmed it.</summary>
    public Task SubscribeAsync(string id, string destination, string ack = "client-individual",
        IEnumerable<KeyValuePair<string, string>>? extra = null, bool receipt = true, CancellationToken ct = default)
    {
        var h = new List<KeyValuePair<string, string>> { new("id", id), new("destination", destination), new("ack", ack) };
        if (extra is not null) h.AddRange(extra);
        if (receipt) return WithReceipt(h, "SUBSCRIBE", default, ct);
        Enqueue(new StompFrame("SUBSCRIBE", h));
        return Task.CompletedTask;
    }

    /// <summary>
    /// UNSUBSCRIBE; with <paramref name="durableName"/> ActiveMQ removes the durable subscription of that name (it must be
    /// inactive: unsubscribe its id first), so the broker stops keeping messages for it.
    /// </summary>
    public Task UnsubscribeAsync(string id, string? durableName = null, CancellationToken ct = default)
    {
        var h = new List<KeyValuePair<string, string>> { new("id", id) };
        if (durableName is not null) h.Add(new("activemq.subscriptionName", durableName));
        return WithReceipt(h, "UNSUBSCRIBE", default, ct);
    }

    /// <summary>ACK one message by the value of its ack header (client-individual).</summary>
    public void Ack(string ackId) => Enqueue(new StompFrame("ACK", [new("id", ackId)]));

    /// <summary>NACK one message: the broker redelivers it (or dead-letters it).</summary>
    public void Nack(string ackId) => Enqueue(new StompFrame("NACK", [new("id", ackId)]));

    public Task SendAsync(string destination, ReadOnlyMemory<byte> body, IEnumerable<KeyValuePair<string, string>>? headers = null,
        bool receipt = false, CancellationToken ct = default)
    {
        var h = new List<KeyValuePair<string, string>> { new("destination", destination), new("content-type", "application/json") };
        if (headers is not null) h.AddRange(headers);
        if (receipt) return WithReceipt(h, "SEND", body, ct);
        Enqueue(new StompFrame("SEND", h, body));
        return Task.CompletedTask;
    }

    /// <summary>Waits until every frame queued so far has been written to the socket.</summary>
    public Task FlushAsync(CancellationToken ct = default)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_outgoing.Writer.TryWrite(tcs)) throw new IOException("the STOMP connection is closed");
        return tcs.Task.WaitAsync(ct);
    }

    /// <summary>DISCONNECT with a receipt, so every ACK sent before it has reached the broker, then close.</summary>
    public async Task DisconnectAsync(CancellationToken ct = default)
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10), _o.Time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
            await WithReceipt([], "DISCONNECT", default, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or StompErrorException) { }
        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Drops the connection without DISCONNECT (what a crash or a network cut looks like to the broker).</summary>
    public void Abort() => Fail(new IOException("connection aborted"));

    public async ValueTask DisposeAsync()
    {
        if (!_done.Task.IsCompleted)
        {
            _cts.Cancel();
            _outgoing.Writer.TryComplete();
            _messages.Writer.TryComplete();
            _done.TrySetResult();
        }
        try { _tcp?.Client?.Close(0); } catch (ObjectDisposedException) { }
        foreach (var t in new[] { _reader, _writer, _watchdog })
            if (t is not null) try { await t.ConfigureAwait(false); } catch (Exception) { /* already reported via Completion */ }
        await _stream.DisposeAsync().ConfigureAwait(false);
        _tcp?.Dispose();
        _cts.Dispose();
    }

    /// <summary>A peer's text for a one-line message: control characters shown as '?', at most 200 characters.</summary>
    internal static string Printable(string s)
    {
        var t = string.Create(Math.Min(s.Length, 200), s, (span, src) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = char.IsControl(src[i]) ? '?' : src[i];
        });
        return s.Length > 200 ? t + "…" : t;
    }

    // Messages as the consumer takes them: each one taken gives its bytes back to the read loop's budget.
    private sealed class MessageReader(StompClient c) : ChannelReader<StompFrame>
    {
        public override Task Completion => c._messages.Reader.Completion;

        public override bool TryRead([System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out StompFrame item)
        {
            if (!c._messages.Reader.TryRead(out item)) return false;
            var left = Interlocked.Add(ref c._queuedBytes, -item.Size);
            if (left <= c._o.MaxQueuedBytes && left + item.Size > c._o.MaxQueuedBytes)
                try { c._space.Release(); } catch (SemaphoreFullException) { }
            return true;
        }

        public override bool TryPeek([System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out StompFrame item) => c._messages.Reader.TryPeek(out item);

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => c._messages.Reader.WaitToReadAsync(cancellationToken);
    }
}
