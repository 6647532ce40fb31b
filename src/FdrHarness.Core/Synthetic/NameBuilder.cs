using System.Runtime.CompilerServices;

namespace FdrHarness.Core.Synthetic;

/// <summary>Appends text and zero-padded numbers to a stack buffer: one string allocation per name, no format parsing.</summary>
internal ref struct NameBuilder(Span<char> buffer)
{
    private readonly Span<char> _buffer = buffer;
    private int _length;

    public readonly int Length => _length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(string text)
    {
        text.CopyTo(_buffer[_length..]);
        _length += text.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(char c) => _buffer[_length++] = c;

    /// <summary>A non-negative number in decimal, left-padded with zeros to <paramref name="minDigits"/>.</summary>
    public void Append(long value, int minDigits = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        var v = (ulong)value;
        var digits = 1;
        for (var t = v; t >= 10; t /= 10) digits++;
        if (digits < minDigits) digits = minDigits;
        var span = _buffer.Slice(_length, digits);
        for (var i = digits - 1; i >= 0; i--)
        {
            var q = v / 10;
            span[i] = (char)('0' + (v - q * 10));
            v = q;
        }
        _length += digits;
    }

    /// <summary>The low 4 × <paramref name="digits"/> bits of <paramref name="value"/> in hex.</summary>
    public void AppendHex(ulong value, int digits, bool upperCase)
    {
        var alphabet = upperCase ? "0123456789ABCDEF" : "0123456789abcdef";
        var span = _buffer.Slice(_length, digits);
        for (var i = digits - 1; i >= 0; i--, value >>= 4)
            span[i] = alphabet[(int)(value & 0xF)];
        _length += digits;
    }

    /// <summary>The text so far, in the builder's buffer.</summary>
    public readonly ReadOnlySpan<char> Text => _buffer[.._length];

    public readonly override string ToString() => new(_buffer[.._length]);
}
