using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FdrHarness.Core.Synthetic;

/// <summary>
/// The byte content of synthetic files, a pure function of (seed, scope, index, size), designed so that a file's
/// Adler-32 costs O(1) without producing its bytes. A file is a 32-byte header (scope key, index and two
/// mixed words, so every file of a scope differs) followed by one seed-derived random pattern repeated and cut
/// to the file's size. A file shorter than the header is a prefix of the header.
/// Thread-safe and, but for a scratch field no result reads, immutable; build one per run seed and share it (it holds the
/// pattern and a checksum per 64 pattern bytes).
/// </summary>
public sealed class SyntheticContent
{
    public const int HeaderLength = 32;
    public const int DefaultPatternLength = 1 << 20;

    private readonly byte[] _pattern;
    // _blockAdler[k] = adler32(pattern[..(k × BlockLength)]): a prefix's checksum is the block's continued over at most
    // 63 pattern bytes. A table of every prefix (4 bytes per pattern byte, 4 MiB) made each file's checksum a cache miss.
    private const int BlockShift = 6, BlockLength = 1 << BlockShift;
    private readonly uint[] _blockAdler;
    private readonly int _patternShift; // log2 of the pattern's length, or -1 when it is not a power of two
    // The pattern's byte sum S, L + W (W = Σ (L − i)·p[i], the pattern's B from a zero start) and its length L, all mod
    // 65521: R repeats of it are then A = 1 + R·S, B = R·(L + W) + L·S·R(R − 1)/2 in closed form.
    private readonly ulong _patternSum, _patternLengthPlusWeighted, _patternLengthMod;
    private readonly ulong _seedKey;

    public SyntheticContent(long seed, int patternLength = DefaultPatternLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patternLength, 1);
        Seed = seed;
        _seedKey = StableHash.Of((ulong)seed, "synthetic-content");

        _pattern = new byte[patternLength];
        _patternShift = int.IsPow2(patternLength) ? int.Log2(patternLength) : -1;
        var rng = new Xoshiro256StarStar(StableHash.Combine(_seedKey, 1));
        var i = 0;
        for (; i + 8 <= patternLength; i += 8)
            BinaryPrimitives.WriteUInt64LittleEndian(_pattern.AsSpan(i), rng.NextUInt64());
        var last = rng.NextUInt64();
        for (; i < patternLength; i++, last >>= 8)
            _pattern[i] = (byte)last;

        _blockAdler = new uint[(patternLength >> BlockShift) + 1];
        uint a = 1, b = 0;
        _blockAdler[0] = Adler32.Initial;
        for (var j = 0; j < patternLength; j++)
        {
            a += _pattern[j];
            if (a >= 65521) a -= 65521;
            b += a;
            if (b >= 65521) b -= 65521;
            if (((j + 1) & (BlockLength - 1)) == 0) _blockAdler[(j + 1) >> BlockShift] = a | (b << 16);
        }
        // adler32(pattern) = (1 + S) | (L + W) << 16.
        _patternSum = (a + 65521 - 1) % 65521;
        _patternLengthPlusWeighted = b;
        _patternLengthMod = Adler32.ReduceLength(patternLength);
    }

    public long Seed { get; }

    public int PatternLength => _pattern.Length;

    /// <summary>The repeated pattern (read-only view).</summary>
    public ReadOnlyMemory<byte> Pattern => _pattern;

    /// <summary>The key that makes one scope's headers differ from another's; compute once per scope on hot paths.</summary>
    public ulong ScopeKey(string scope) => StableHash.Of(_seedKey, scope);

    public uint ComputeAdler32(SyntheticFile file) => ComputeAdler32(ScopeKey(file.Scope), file.Index, file.Bytes);

    public uint ComputeAdler32(string scope, long index, long bytes) => ComputeAdler32(ScopeKey(scope), index, bytes);

    /// <summary>O(1): the header's checksum combined with the pattern's repeats' and a prefix's.</summary>
    public uint ComputeAdler32(ulong scopeKey, long index, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        // Adler32.UpdateShort reads 64 bytes whatever the length: the header and 32 bytes that weigh nothing.
        Span<byte> header = stackalloc byte[Adler32.ShortMax];
        WriteHeader(header, scopeKey, index);
        ref var headerStart = ref MemoryMarshal.GetReference(header);
        if (bytes <= HeaderLength) return Adler32.UpdateShort(Adler32.Initial, ref headerStart, (int)bytes);

        var body = bytes - HeaderLength;
        // The default pattern's length is a power of two: a shift and a mask instead of two 64-bit divisions.
        var repeats = _patternShift >= 0 ? (ulong)body >> _patternShift : (ulong)(body / _pattern.Length);
        var rest = Rest(body);
        var bodyAdler = Adler32.CombineMod(RepeatAdler(repeats), PrefixAdler(rest), (uint)rest % 65521);
        return Adler32.CombineMod(Adler32.UpdateShort(Adler32.Initial, ref headerStart, HeaderLength), bodyAdler, Adler32.ReduceLength(body));
    }

    /// <summary>
    /// <see cref="ComputeAdler32(ulong, long, long)"/> of several files of a scope, into <paramref name="adlers"/>. The
    /// pattern bytes each file's checksum reads are loaded for all of them first: they lie anywhere in the pattern, and
    /// loads that go out together wait for memory about once per batch instead of once per file.
    /// </summary>
    public void ComputeAdler32(ulong scopeKey, ReadOnlySpan<long> indexes, ReadOnlySpan<long> bytes, Span<uint> adlers)
    {
        if (indexes.Length != bytes.Length || adlers.Length < bytes.Length) throw new ArgumentException("one index, size and checksum per file");
        // The line of each file's block checksum and the two lines of its block's bytes.
        var touched = 0u;
        foreach (var size in bytes)
        {
            if (size <= HeaderLength) continue;
            var from = Rest(size - HeaderLength) >> BlockShift << BlockShift;
            touched += _blockAdler[from >> BlockShift] + _pattern[from] + _pattern[Math.Min(from + BlockLength - 1, _pattern.Length - 1)];
        }
        _touched = touched;
        for (var i = 0; i < bytes.Length; i++) adlers[i] = ComputeAdler32(scopeKey, indexes[i], bytes[i]);
    }

    // The batch's loads summed and stored: the JIT drops a load whose value is never used (Volatile.Read's too). Threads
    // may overwrite each other's sum; nothing reads it.
    private uint _touched;

    /// <summary>Where a body of <paramref name="body"/> bytes ends in the pattern: its length modulo the pattern's.</summary>
    private int Rest(long body) => _patternShift >= 0 ? (int)(body & (_pattern.Length - 1)) : (int)(body % _pattern.Length);

    /// <summary>
    /// adler32 of the pattern repeated <paramref name="repeats"/> times, in closed form: a loop combining the pattern's
    /// powers of two took a branch per bit that no predictor could guess (about half a file's checksum).
    /// </summary>
    private uint RepeatAdler(ulong repeats)
    {
        const ulong Mod = 65521;
        var r = repeats % Mod;
        // R(R − 1)/2 without overflowing 64 bits: halve the even factor first.
        var pairs = (repeats & 1) == 0 ? (repeats / 2 % Mod) * ((repeats - 1) % Mod) : r * ((repeats - 1) / 2 % Mod);
        var a = (1 + r * _patternSum) % Mod;
        var b = (r * _patternLengthPlusWeighted + _patternLengthMod * _patternSum % Mod * (pairs % Mod)) % Mod;
        return (uint)(a | (b << 16));
    }

    /// <summary>adler32(pattern[..length]).</summary>
    private uint PrefixAdler(int length)
    {
        var block = length >> BlockShift;
        var from = block << BlockShift;
        // UpdateShort reads a whole block from `from`: there is one unless the pattern's length is not a multiple of it.
        return from + Adler32.ShortMax <= _pattern.Length
            ? Adler32.UpdateShort(_blockAdler[block], ref _pattern[from], length - from)
            : Adler32.Update(_blockAdler[block], _pattern.AsSpan(from, length - from));
    }

    /// <summary>A read-only, seekable stream over the file's exact bytes (nothing is allocated per byte).</summary>
    public Stream OpenRead(SyntheticFile file)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(file.Bytes);
        return new ContentStream(this, MakeHeader(file), file.Bytes);
    }

    /// <summary>Writes the file's exact bytes to <paramref name="destination"/>, straight from the shared pattern.</summary>
    public ValueTask WriteToAsync(Stream destination, SyntheticFile file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(file.Bytes);
        return WriteRangeAsync(destination, MakeHeader(file), 0, file.Bytes, cancellationToken);
    }

    /// <summary>Copies the file's bytes from <paramref name="offset"/> on into <paramref name="destination"/>, filling it.</summary>
    public void CopyTo(SyntheticFile file, long offset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset + destination.Length > file.Bytes) throw new ArgumentOutOfRangeException(nameof(destination), "range beyond the end of the file");
        Read(MakeHeader(file), offset, destination);
    }

    private byte[] MakeHeader(SyntheticFile file)
    {
        var header = new byte[HeaderLength];
        WriteHeader(header, ScopeKey(file.Scope), file.Index);
        return header;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteHeader(Span<byte> header, ulong scopeKey, long index)
    {
        var mixed = StableHash.Combine(scopeKey, (ulong)index);
        BinaryPrimitives.WriteUInt64LittleEndian(header, scopeKey);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], index);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], mixed);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], SplitMix64.Mix(mixed + SplitMix64.Gamma));
    }

    // Fills destination with the bytes at [position, position + destination.Length); the caller checks the range.
    private void Read(byte[] header, long position, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int n;
            if (position < HeaderLength)
            {
                n = Math.Min(HeaderLength - (int)position, destination.Length);
                header.AsSpan((int)position, n).CopyTo(destination);
            }
            else
            {
                var offset = (int)((position - HeaderLength) % _pattern.Length);
                n = Math.Min(_pattern.Length - offset, destination.Length);
                _pattern.AsSpan(offset, n).CopyTo(destination);
            }
            destination = destination[n..];
            position += n;
        }
    }

    private async ValueTask WriteRangeAsync(Stream destination, byte[] header, long position, long end, CancellationToken cancellationToken)
    {
        while (position < end)
        {
            ReadOnlyMemory<byte> chunk;
            if (position < HeaderLength)
            {
                chunk = header.AsMemory((int)position, (int)Math.Min(HeaderLength - position, end - position));
            }
            else
            {
                var offset = (int)((position - HeaderLength) % _pattern.Length);
                chunk = _pattern.AsMemory(offset, (int)Math.Min(_pattern.Length - offset, end - position));
            }
            await destination.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
            position += chunk.Length;
        }
    }

    private sealed class ContentStream(SyntheticContent content, byte[] header, long length) : Stream
    {
        private long _position;
        private bool _disposed;

        public override bool CanRead => !_disposed;
        public override bool CanSeek => !_disposed;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _position;
            set
            {
                ArgumentOutOfRangeException.ThrowIfNegative(value);
                _position = value;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_position >= length) return 0;
            var n = (int)Math.Min(buffer.Length, length - _position);
            content.Read(header, _position, buffer[..n]);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : new(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int ReadByte()
        {
            Span<byte> one = stackalloc byte[1];
            return Read(one) == 1 ? one[0] : -1;
        }

        // Writes pattern slices directly instead of going through a copy buffer.
        public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ArgumentNullException.ThrowIfNull(destination);
            if (_position >= length) return;
            await content.WriteRangeAsync(destination, header, _position, length, cancellationToken).ConfigureAwait(false);
            _position = length;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Position = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                SeekOrigin.End => length + offset,
                _ => throw new ArgumentOutOfRangeException(nameof(origin)),
            };
            return _position;
        }

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            _disposed = true;
            base.Dispose(disposing);
        }
    }
}
