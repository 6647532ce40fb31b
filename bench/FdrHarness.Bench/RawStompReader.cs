using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

/// <summary>
/// The broker's ceiling for hermes-consume: a blocking socket reader that only finds frame ends (NUL) and counts MESSAGE
/// frames, acknowledging each, with no parsing, no JSON, no sink. What it reaches is what ActiveMQ can deliver here.
/// </summary>
internal static class RawStompReader
{
    /// <summary>
    /// Subscribes to <paramref name="destination"/> (client-individual, as the harness) and reads <paramref name="n"/>
    /// messages, one ACK each; returns the time from the first message to the last.
    /// </summary>
    public static TimeSpan Consume(string host, int port, string destination, int n, int prefetch)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 60_000 }; // a stalled broker fails the run instead of hanging it
        socket.Connect(host, port);
        Send(socket, $"CONNECT\naccept-version:1.2\nhost:{host}\nheart-beat:0,0\n\n\0");
        Send(socket, $"SUBSCRIBE\nid:raw\ndestination:{destination}\nack:client-individual\nactivemq.prefetchSize:{prefetch}\n\n\0");

        // ACKs go out from another thread: ActiveMQ stops reading a connection while its write to it blocks, so a reader
        // that stopped reading to send could deadlock with it.
        using var outgoing = new System.Collections.Concurrent.BlockingCollection<byte[]>();
        var writer = new Thread(() => { foreach (var bytes in outgoing.GetConsumingEnumerable()) socket.Send(bytes); }) { IsBackground = true };
        writer.Start();
        var buffer = new byte[1 << 20];
        var acks = new MemoryStream();
        int filled = 0, count = 0;
        var clock = new Stopwatch();
        var connected = false;
        while (count < n)
        {
            var read = socket.Receive(buffer, filled, buffer.Length - filled, SocketFlags.None);
            if (read == 0) throw new IOException($"the broker closed the connection after {count} messages");
            filled += read;
            var start = 0;
            acks.SetLength(0);
            while (true)
            {
                var end = Array.IndexOf(buffer, (byte)0, start, filled - start);
                if (end < 0) break;
                var frame = buffer.AsSpan(start, end - start).TrimStart((byte)'\n');
                start = end + 1;
                if (!connected) { connected = frame.StartsWith("CONNECTED"u8); if (!connected) throw new IOException(Encoding.UTF8.GetString(frame)); continue; }
                if (!frame.StartsWith("MESSAGE"u8)) throw new IOException("unexpected frame: " + Encoding.UTF8.GetString(frame));
                if (count++ == 0) clock.Start();
                var id = frame[(frame.IndexOf("\nack:"u8) + 5)..];
                acks.Write("ACK\nid:"u8);
                acks.Write(id[..id.IndexOf((byte)'\n')]);
                acks.Write("\n\n\0"u8);
            }
            if (acks.Length > 0) outgoing.Add(acks.ToArray());
            // Keep the partial frame at the front of the buffer.
            Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
            filled -= start;
        }
        var elapsed = clock.Elapsed;
        outgoing.CompleteAdding();
        writer.Join();
        Send(socket, "DISCONNECT\nreceipt:bye\n\n\0");
        try { while (socket.Receive(buffer) > 0) { } } catch (SocketException) { }
        return elapsed;
    }

    private static void Send(Socket socket, string frame) => socket.Send(Encoding.UTF8.GetBytes(frame));
}
