using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace FdrHarness.Rucio.Double;

/// <summary>Where hermes delivers: [messaging-hermes] brokers, port, destination, username, password.</summary>
public sealed record HermesBroker(string Host, int Port, string Destination = "/topic/rucio.events")
{
    public string? Username { get; init; }
    public string? Password { get; init; }
    /// <summary>
    /// Every n-th message is sent a second time (0: never), as hermes does when a pass fails after some of its messages
    /// reached the broker: they stay in the messages table and go again on the next pass, with a new message-id.
    /// </summary>
    public int ResendEvery { get; init; }
}

/// <summary>
/// The double's hermes: a STOMP 1.2 producer written apart from the harness's client (src/FdrHarness.Rucio/Stomp), so a
/// framing mistake there is not mirrored here. Each message goes as hermes sends it — SEND to the destination with headers
/// persistent:true and event_type (lower case), content-length, header values escaped as STOMP 1.2 says — and the last
/// frame of a pass asks for a receipt, so that a pass counts as published only once the broker has it.
/// </summary>
public sealed class HermesPublisher : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _buffered;
    private long _receipts;

    private HermesPublisher(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<HermesPublisher> ConnectAsync(HermesBroker broker, CancellationToken ct)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(broker.Host, broker.Port, ct).ConfigureAwait(false);
            var p = new HermesPublisher(tcp);
            var headers = new List<(string, string)> { ("accept-version", "1.2"), ("host", broker.Host), ("heart-beat", "0,0") };
            if (broker.Username is not null) headers.Add(("login", broker.Username));
            if (broker.Password is not null) headers.Add(("passcode", broker.Password));
            await p._stream.WriteAsync(Frame("CONNECT", headers, []), ct).ConfigureAwait(false);
            var (command, answer) = await p.ReadFrameAsync(ct).ConfigureAwait(false);
            if (command != "CONNECTED")
                throw new IOException($"the broker answered CONNECT with {command}: {answer.GetValueOrDefault("message")}");
            return p;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends one pass of messages; returns once the broker confirmed the last (frames on one connection are handled in order).</summary>
    public async Task SendAsync(string destination, IReadOnlyList<(string EventType, string Body)> messages, CancellationToken ct)
    {
        if (messages.Count == 0) return;
        var receipt = "hermes-" + (++_receipts).ToString(CultureInfo.InvariantCulture);
        using var pass = new MemoryStream();
        for (var i = 0; i < messages.Count; i++)
        {
            var (type, body) = messages[i];
            pass.Write(Send(destination, type, Encoding.UTF8.GetBytes(body), i == messages.Count - 1 ? receipt : null));
        }
        await _stream.WriteAsync(pass.GetBuffer().AsMemory(0, (int)pass.Length), ct).ConfigureAwait(false);
        var (command, headers) = await ReadFrameAsync(ct).ConfigureAwait(false);
        if (command == "ERROR") throw new IOException($"the broker refused a SEND: {headers.GetValueOrDefault("message")}");
        if (command != "RECEIPT" || headers.GetValueOrDefault("receipt-id") != receipt)
            throw new IOException($"expected RECEIPT {receipt}, got {command} {headers.GetValueOrDefault("receipt-id")}");
    }

    /// <summary>A SEND frame as hermes' stomp.py writes it (persistent, event_type lower case, content-length).</summary>
    public static byte[] Send(string destination, string eventType, byte[] body, string? receipt = null)
    {
        var headers = new List<(string, string)>
        {
            ("destination", destination),
            ("persistent", "true"),
            ("event_type", eventType.ToLowerInvariant()),
            ("content-length", body.Length.ToString(CultureInfo.InvariantCulture)),
        };
        if (receipt is not null) headers.Add(("receipt", receipt));
        return Frame("SEND", headers, body);
    }

    private static byte[] Frame(string command, IEnumerable<(string Name, string Value)> headers, byte[] body)
    {
        var head = new StringBuilder(command).Append('\n');
        // CONNECT and CONNECTED are not escaped (STOMP 1.2, "Value Encoding").
        foreach (var (name, value) in headers)
            head.Append(command == "CONNECT" ? name : Escape(name)).Append(':').Append(command == "CONNECT" ? value : Escape(value)).Append('\n');
        head.Append('\n');
        var bytes = Encoding.UTF8.GetBytes(head.ToString());
        var frame = new byte[bytes.Length + body.Length + 1];
        bytes.CopyTo(frame, 0);
        body.CopyTo(frame, bytes.Length);
        return frame; // the last byte is the NUL
    }

    /// <summary>STOMP 1.2 header escaping: backslash, carriage return, line feed and colon.</summary>
    public static string Escape(string value) => value
        .Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\r", "\\r", StringComparison.Ordinal)
        .Replace("\n", "\\n", StringComparison.Ordinal)
        .Replace(":", "\\c", StringComparison.Ordinal);

    /// <summary>The broker's next frame (CONNECTED, RECEIPT or ERROR): its command and headers; the body is skipped.</summary>
    private async Task<(string Command, Dictionary<string, string> Headers)> ReadFrameAsync(CancellationToken ct)
    {
        while (true)
        {
            var nul = Array.IndexOf(_buffer, (byte)0, 0, _buffered);
            if (nul >= 0)
            {
                var text = Encoding.UTF8.GetString(_buffer, 0, nul).TrimStart('\r', '\n');
                _buffered -= nul + 1;
                Buffer.BlockCopy(_buffer, nul + 1, _buffer, 0, _buffered);
                if (text.Length == 0) continue; // EOLs between frames
                var lines = text.Split('\n');
                var headers = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var line in lines.Skip(1).TakeWhile(l => l.TrimEnd('\r').Length > 0))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0) headers.TryAdd(line[..colon], line[(colon + 1)..].TrimEnd('\r'));
                }
                return (lines[0].TrimEnd('\r'), headers);
            }
            if (_buffered == _buffer.Length) throw new IOException("a frame from the broker longer than 16 KiB");
            var n = await _stream.ReadAsync(_buffer.AsMemory(_buffered), ct).ConfigureAwait(false);
            if (n == 0) throw new IOException("the broker closed the connection");
            _buffered += n;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var bye = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _stream.WriteAsync(Frame("DISCONNECT", [], []), bye.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { }
        _tcp.Dispose();
    }
}
