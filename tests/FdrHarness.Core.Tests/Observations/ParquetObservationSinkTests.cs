using System.Security.Cryptography;
using FdrHarness.Core.Observations;
using Parquet;

namespace FdrHarness.Core.Tests.Observations;

/// <summary>Heap measurements are process-wide: other test classes must not allocate meanwhile.</summary>
[CollectionDefinition(nameof(HeapMeasurements), DisableParallelization = true)]
public sealed class HeapMeasurements;

[Collection(nameof(HeapMeasurements))]
public class ParquetObservationSinkTests
{
    private static string[] AllFiles =>
        [ParquetObservationSink.EventsFile, ParquetObservationSink.SamplesFile, ParquetObservationSink.LifecycleFile, ParquetObservationSink.FaultsFile,
         ParquetObservationSink.InjectionsFile];

    private static void WriteAll(string dir, int events, int salt = 0, ParquetSinkOptions? options = null)
    {
        using var sink = new ParquetObservationSink(dir, options);
        for (var i = 0; i < events; i++)
        {
            sink.Event(ObservationFixtures.Event(i, salt));
            if (i % 10 == 0) sink.Sample(ObservationFixtures.Sample(i / 10));
            if (i % 100 == 0) sink.Lifecycle(ObservationFixtures.Lifecycle(i / 100));
            if (i % 1000 == 0) sink.Fault(ObservationFixtures.Fault(i / 1000));
            if (i % 20 == 0) sink.Injection(ObservationFixtures.Injection(i / 20));
        }
    }

    [Fact]
    public void Every_field_of_every_kind_round_trips_nulls_included()
    {
        using var tmp = new TempFolder();
        // Small row groups so the round trip crosses row-group boundaries, including a partial last one.
        WriteAll(tmp.Path, 5_003, options: new ParquetSinkOptions { RowGroupSize = 1_000 });

        var reader = new ObservationReader(tmp.Path);
        Assert.Equal(Enumerable.Range(0, 5_003).Select(i => ObservationFixtures.Event(i)), reader.Events());
        Assert.Equal(Enumerable.Range(0, 501).Select(i => ObservationFixtures.Sample(i)), reader.Samples());
        Assert.Equal(Enumerable.Range(0, 51).Select(i => ObservationFixtures.Lifecycle(i)), reader.Lifecycle());
        Assert.Equal(Enumerable.Range(0, 6).Select(i => ObservationFixtures.Fault(i)), reader.Faults());
        Assert.Equal(Enumerable.Range(0, 251).Select(i => ObservationFixtures.Injection(i)), reader.Injections());
        Assert.Equal(6, reader.RowGroupCount(ParquetObservationSink.EventsFile));
    }

    [Fact]
    public void Reading_a_few_columns_leaves_the_others_default()
    {
        using var tmp = new TempFolder();
        WriteAll(tmp.Path, 3_000, options: new ParquetSinkOptions { RowGroupSize = 1_000 });
        var reader = new ObservationReader(tmp.Path);
        var expected = Enumerable.Range(0, 3_000).Select(i => ObservationFixtures.Event(i))
            .Select(e => new HermesEvent { EventType = e.EventType, SrcRse = e.SrcRse, Bytes = e.Bytes });
        Assert.Equal(expected, reader.Events(["event_type", "src_rse", "bytes"]));
        var error = Assert.Throws<ArgumentException>(() => reader.Events(["src-rse"]).First());
        Assert.Contains("src_rse", error.Message);
    }

    [Fact]
    public void Fixture_covers_null_and_value_for_every_nullable_field()
    {
        // Guards the round-trip test: a field that is never null (or always null) would not prove much.
        var events = Enumerable.Range(0, 5_003).Select(i => ObservationFixtures.Event(i)).ToArray();
        // The columns: the fields and the id properties (their HexId forms are another way to give the same column).
        var columns = typeof(HermesEvent).GetFields().Where(f => f.FieldType != typeof(HexId) && f.FieldType != typeof(NameRef)).Select(f => (f.Name, Get: (Func<object, object?>)f.GetValue))
            .Concat(typeof(HermesEvent).GetProperties().Select(p => (p.Name, Get: (Func<object, object?>)p.GetValue)));
        foreach (var (name, get) in columns)
        {
            var values = events.Select(e => get(e)).ToArray();
            if (name != nameof(HermesEvent.EventType) && name != nameof(HermesEvent.CreatedAt))
                Assert.True(values.Any(v => v is null), $"{name} is never null");
            Assert.True(values.Distinct().Count() > 1, $"{name} never varies");
        }
    }

    [Fact]
    public void Ids_given_as_numbers_are_written_as_their_text()
    {
        using var tmp = new TempFolder();
        var e = ObservationFixtures.Event(3) with
        {
            RequestIdHex = HexId.Hex32(0x0123456789abcdef, 0xfedcba9876543210), PreviousRequestIdHex = HexId.Hex32(1, 2),
            ChecksumAdlerHex = HexId.Hex8(0xdeadbeef), TransferIdHex = HexId.Uuid(0x0123456789abcdef, 0xfedcba9876543210),
        };
        Assert.Equal("0123456789abcdeffedcba9876543210", e.RequestId);
        Assert.Equal("deadbeef", e.ChecksumAdler);
        Assert.Equal("01234567-89ab-cdef-fedc-ba9876543210", e.TransferId);
        using (var sink = new ParquetObservationSink(tmp.Path)) sink.Event(e);
        var back = Assert.Single(new ObservationReader(tmp.Path).Events());
        Assert.Equal((e.RequestId, e.PreviousRequestId, e.ChecksumAdler, e.TransferId), (back.RequestId, back.PreviousRequestId, back.ChecksumAdler, back.TransferId));
        Assert.Equal("00000000000000010000000000000002", back.PreviousRequestId);
    }

    private sealed class Names : INameSource
    {
        public int MaxLength => 16;
        public string Name(long index) => index == 2 ? "non-ascii-é" : $"file-{index}";

        public bool TryWrite(long index, Span<byte> destination, out int written)
        {
            written = 0;
            return index != 2 && System.Text.Ascii.FromUtf16(Name(index), destination, out written) == System.Buffers.OperationStatus.Done;
        }
    }

    [Fact]
    public void Names_given_by_reference_are_written_as_their_text()
    {
        using var tmp = new TempFolder();
        var names = new Names();
        using (var sink = new ParquetObservationSink(tmp.Path))
            for (var i = 0; i < 3; i++) sink.Event(ObservationFixtures.Event(i) with { NameRef = new NameRef(names, i) });
        Assert.Equal(["file-0", "file-1", "non-ascii-é"], new ObservationReader(tmp.Path).Events().Select(e => e.Name));
    }

    [Fact]
    public void Times_come_back_as_utc_with_every_tick()
    {
        using var tmp = new TempFolder();
        var e = ObservationFixtures.Event(1) with { CreatedAt = new DateTime(638_000_000_000_000_123, DateTimeKind.Utc) };
        using (var sink = new ParquetObservationSink(tmp.Path)) sink.Event(e);
        var back = Assert.Single(new ObservationReader(tmp.Path).Events());
        Assert.Equal(e.CreatedAt.Ticks, back.CreatedAt.Ticks);
        Assert.Equal(DateTimeKind.Utc, back.CreatedAt.Kind);
    }

    [Fact]
    public async Task Columns_are_the_hermes_payload_keys_in_snake_case()
    {
        using var tmp = new TempFolder();
        using (var sink = new ParquetObservationSink(tmp.Path)) sink.Event(ObservationFixtures.Event(1));
        string[] expected =
        [
            "event_type", "created_at", "scope", "name", "dataset_scope", "dataset", "src_rse", "dst_rse", "rse", "request_id",
            "previous_request_id", "rule_id", "activity", "bytes", "checksum_adler", "protocol", "duration", "reason", "retry_count",
            "transfer_id", "external_host", "account", "state", "progress", "submitted_at", "started_at", "transferred_at",
        ];
        var schema = await ParquetReader.ReadSchemaAsync(Path.Combine(tmp.Path, ParquetObservationSink.EventsFile));
        Assert.Equal(expected, schema.GetDataFields().Select(f => f.Name));
        // A column per field, and per id property (whose HexId field is the same column given as a number).
        Assert.Equal(typeof(HermesEvent).GetFields().Count(f => f.FieldType != typeof(HexId) && f.FieldType != typeof(NameRef)) + typeof(HermesEvent).GetProperties().Length, expected.Length);
    }

    [Fact]
    public async Task Repeated_strings_are_dictionary_encoded()
    {
        using var tmp = new TempFolder();
        using (var sink = new ParquetObservationSink(tmp.Path))
            for (var i = 0; i < 10_000; i++) sink.Event(ObservationFixtures.Event(i));
        await using var reader = await ParquetReader.CreateAsync(Path.Combine(tmp.Path, ParquetObservationSink.EventsFile));
        {
            using var group = reader.OpenRowGroupReader(0);
            var eventType = reader.Schema.GetDataFields().Single(f => f.Name == "event_type");
            var chunk = group.GetMetadata(eventType)!.MetaData!;
            Assert.Contains(chunk.Encodings, e => e is Parquet.Meta.Encoding.PLAIN_DICTIONARY or Parquet.Meta.Encoding.RLE_DICTIONARY);
            // Seven distinct event types in 10 000 rows: a byte or less per row, not the strings themselves.
            Assert.True(chunk.TotalCompressedSize < 10_000, $"event_type takes {chunk.TotalCompressedSize} bytes");
        }
    }

    [Fact]
    public async Task Mostly_distinct_strings_are_stored_plain_as_utf8_strings_non_ascii_included()
    {
        using var tmp = new TempFolder();
        // Past ASCII (2-, 3- and 4-byte UTF-8) and empty: the plain columns encode UTF-8 themselves and must grow for it.
        string[] odd = ["dätä/ñame-€", "", "𝄞 clef", "plain"];
        var events = Enumerable.Range(0, 3_000).Select(i => ObservationFixtures.Event(i) with
        {
            Name = i % 7 == 0 ? null : odd[i % odd.Length] + i, RequestId = i % 5 == 0 ? odd[i % odd.Length] : $"{i:x32}",
        }).ToArray();
        using (var sink = new ParquetObservationSink(tmp.Path, new ParquetSinkOptions { RowGroupSize = 1_000 }))
            foreach (var e in events) sink.Event(e);

        Assert.Equal(events, new ObservationReader(tmp.Path).Events());
        await using var reader = await ParquetReader.CreateAsync(Path.Combine(tmp.Path, ParquetObservationSink.EventsFile));
        var eventType = reader.Schema.GetDataFields().Single(f => f.Name == "event_type");
        foreach (var column in new[] { "name", "request_id", "checksum_adler", "transfer_id" })
        {
            var field = reader.Schema.GetDataFields().Single(f => f.Name == column);
            Assert.Equal(eventType.ClrType, field.ClrType);
            Assert.True(field.IsNullable);
            var element = reader.Metadata!.Schema.Single(e => e.Name == column);
            Assert.NotNull(element.LogicalType?.STRING);
            using var group = reader.OpenRowGroupReader(0);
            Assert.DoesNotContain(group.GetMetadata(field)!.MetaData!.Encodings,
                e => e is Parquet.Meta.Encoding.PLAIN_DICTIONARY or Parquet.Meta.Encoding.RLE_DICTIONARY);
        }
    }

    [Fact]
    public void Strings_longer_than_the_batchs_byte_chunks_round_trip_as_the_batches_are_reused()
    {
        using var tmp = new TempFolder();
        // Names past the 1 MiB chunks the batch's UTF-8 bytes are kept in (a 3-byte character each: 2.4 MiB), between
        // short ones, over many reused batches of a few rows.
        var events = Enumerable.Range(0, 40).Select(i => ObservationFixtures.Event(i) with
        {
            Name = i % 9 == 4 ? new string('€', 800_000 + i) : $"short-{i}", TransferId = i % 9 == 5 ? new string('x', 1_100_000) : null,
        }).ToArray();
        using (var sink = new ParquetObservationSink(tmp.Path, new ParquetSinkOptions { RowGroupSize = 4 }))
            foreach (var e in events) sink.Event(e);

        Assert.Equal(events, new ObservationReader(tmp.Path).Events());
    }

    [Fact]
    public void Same_observations_give_byte_identical_files_and_different_ones_differ()
    {
        using var tmp = new TempFolder();
        var options = new ParquetSinkOptions { RowGroupSize = 4_096 };
        WriteAll(tmp.Sub("a"), 20_000, options: options);
        WriteAll(tmp.Sub("b"), 20_000, options: options);
        WriteAll(tmp.Sub("c"), 20_000, salt: 1, options: options);
        foreach (var file in AllFiles)
            Assert.Equal(Hash(tmp.Sub("a"), file), Hash(tmp.Sub("b"), file));
        Assert.NotEqual(Hash(tmp.Sub("a"), ParquetObservationSink.EventsFile), Hash(tmp.Sub("c"), ParquetObservationSink.EventsFile));
    }

    [Fact]
    public void File_metadata_holds_no_time_host_or_path()
    {
        using var tmp = new TempFolder();
        WriteAll(tmp.Path, 100);
        var bytes = File.ReadAllText(Path.Combine(tmp.Path, ParquetObservationSink.EventsFile), System.Text.Encoding.Latin1);
        Assert.DoesNotContain(Environment.MachineName, bytes);
        Assert.DoesNotContain(tmp.Path, bytes);
        Assert.DoesNotContain(DateTime.UtcNow.ToString("yyyy-MM-dd"), bytes);
    }

    [Fact]
    public void A_million_events_stream_through_bounded_memory_in_many_row_groups()
    {
        using var tmp = new TempFolder();
        const int rowGroup = 16_384;
        const int total = 1_000_000;
        long heapAfterWarmUp = 0, peakGrowth = 0;
        using (var sink = new ParquetObservationSink(tmp.Path, new ParquetSinkOptions { RowGroupSize = rowGroup }))
        {
            for (var i = 0; i < total; i++)
            {
                sink.Event(ObservationFixtures.Event(i));
                if (i == 100_000) heapAfterWarmUp = GC.GetTotalMemory(forceFullCollection: true);
                if (i > 100_000 && i % 150_000 == 0)
                    peakGrowth = Math.Max(peakGrowth, GC.GetTotalMemory(forceFullCollection: true) - heapAfterWarmUp);
            }
            // Rows are handed off as they fill, not kept until the end.
            Assert.True(sink.RowGroups.Events >= total / rowGroup, $"{sink.RowGroups.Events} row groups handed off");
        }
        // 900 000 more events in memory would be ≥ 150 MB (≈ 170 B of strings and fields each); the sink's
        // buffers are a few row groups of 16 384 rows plus the encoder's, which vary with the writer's pace.
        Assert.True(peakGrowth < 75L << 20, $"heap grew by {peakGrowth >> 20} MiB while writing: are rows kept?");
        var reader = new ObservationReader(tmp.Path);
        Assert.Equal((total + rowGroup - 1) / rowGroup, reader.RowGroupCount(ParquetObservationSink.EventsFile));
        Assert.Equal(total, reader.Events().LongCount());
    }

    [Fact]
    public async Task Files_appear_under_their_names_only_when_complete()
    {
        using var tmp = new TempFolder();
        var sink = new ParquetObservationSink(tmp.Path);
        sink.Event(ObservationFixtures.Event(1));
        foreach (var file in AllFiles)
        {
            Assert.False(File.Exists(Path.Combine(tmp.Path, file)));
            Assert.True(File.Exists(Path.Combine(tmp.Path, file + ParquetObservationSink.TempSuffix)));
        }
        await sink.CompleteAsync();
        sink.Dispose(); // idempotent
        Assert.Empty(Directory.GetFiles(tmp.Path, "*" + ParquetObservationSink.TempSuffix));
        foreach (var file in AllFiles) Assert.True(File.Exists(Path.Combine(tmp.Path, file)));
        Assert.Equal(new ObservationCounts(1, 0, 0, 0), sink.Counts);
        // Kinds with no rows are still valid, empty files.
        Assert.Empty(new ObservationReader(tmp.Path).Faults());
        Assert.Throws<InvalidOperationException>(() => sink.Event(ObservationFixtures.Event(2)));
    }

    [Fact]
    public async Task A_row_after_completion_fails_even_on_a_row_group_boundary()
    {
        using var tmp = new TempFolder();
        var sink = new ParquetObservationSink(tmp.Path, new ParquetSinkOptions { RowGroupSize = 2 });
        sink.Event(ObservationFixtures.Event(1));
        sink.Event(ObservationFixtures.Event(2)); // hands the full group off, leaving an empty, recycled batch
        await sink.CompleteAsync();
        Assert.Throws<InvalidOperationException>(() => sink.Event(ObservationFixtures.Event(3)));
        Assert.Equal(2, new ObservationReader(tmp.Path).Events().Count());
    }

    [Fact]
    public async Task An_unset_time_fails_loudly_instead_of_wrapping()
    {
        using var tmp = new TempFolder();
        var sink = new ParquetObservationSink(tmp.Path);
        sink.Event(ObservationFixtures.Event(1) with { CreatedAt = default });
        var e = await Assert.ThrowsAsync<IOException>(sink.CompleteAsync);
        Assert.Contains("created_at", e.Message);
        Assert.False(File.Exists(Path.Combine(tmp.Path, ParquetObservationSink.EventsFile)));
    }

    [Fact]
    public void Never_overwrites_the_observations_of_an_earlier_run()
    {
        using var tmp = new TempFolder();
        WriteAll(tmp.Path, 10);
        var e = Assert.Throws<IOException>(() => new ParquetObservationSink(tmp.Path));
        Assert.Contains(ParquetObservationSink.EventsFile, e.Message);
        Assert.Empty(Directory.GetFiles(tmp.Path, "*" + ParquetObservationSink.TempSuffix));
    }

    [Fact]
    public void Reader_names_a_file_that_was_never_finished()
    {
        using var tmp = new TempFolder();
        File.WriteAllText(Path.Combine(tmp.Path, ParquetObservationSink.EventsFile + ParquetObservationSink.TempSuffix), "PAR1");
        var e = Assert.Throws<FileNotFoundException>(() => new ObservationReader(tmp.Path).Events().First());
        Assert.Contains("died before finishing", e.Message);
    }

    [Fact]
    public async Task A_file_that_cannot_be_finished_is_not_published_and_the_error_names_the_folder()
    {
        using var tmp = new TempFolder();
        var sink = new ParquetObservationSink(tmp.Path);
        sink.Event(ObservationFixtures.Event(1));
        File.Delete(Path.Combine(tmp.Path, ParquetObservationSink.SamplesFile + ParquetObservationSink.TempSuffix));
        var e = await Assert.ThrowsAsync<IOException>(sink.CompleteAsync);
        Assert.Contains(tmp.Path, e.Message);
        Assert.False(File.Exists(Path.Combine(tmp.Path, ParquetObservationSink.SamplesFile)));
        Assert.Empty(Directory.GetFiles(tmp.Path, "*" + ParquetObservationSink.TempSuffix));
    }

    [Fact]
    public void The_format_is_pinned_across_processes_and_machines()
    {
        // Same input, same bytes, whatever the process (string hashing is randomised per process), machine or time zone.
        // Changing the schema or how ParquetFileWriter encodes changes this hash: if intended, update it.
        using var tmp = new TempFolder();
        WriteAll(tmp.Path, 3_000, options: new ParquetSinkOptions { RowGroupSize = 1_024 });
        var actual = Hash(tmp.Path, ParquetObservationSink.EventsFile);
        Assert.True(actual == PinnedEventsSha256, $"events.parquet SHA-256 is {actual}, pinned {PinnedEventsSha256}");
    }

    [Theory]
    [InlineData(ObservationCompression.None)]
    [InlineData(ObservationCompression.Snappy)]
    [InlineData(ObservationCompression.Zstd)]
    public async Task Every_compression_reads_back_the_same_rows_with_its_codec_named(ObservationCompression compression)
    {
        using var tmp = new TempFolder();
        WriteAll(tmp.Path, 2_500, options: new ParquetSinkOptions { RowGroupSize = 1_000, Compression = compression });

        var reader = new ObservationReader(tmp.Path);
        Assert.Equal(Enumerable.Range(0, 2_500).Select(i => ObservationFixtures.Event(i)), reader.Events());
        Assert.Equal(Enumerable.Range(0, 125).Select(i => ObservationFixtures.Injection(i)), reader.Injections());
        await using var file = await ParquetReader.CreateAsync(Path.Combine(tmp.Path, ParquetObservationSink.EventsFile));
        using var group = file.OpenRowGroupReader(2);
        var codec = compression switch
        {
            ObservationCompression.None => Parquet.Meta.CompressionCodec.UNCOMPRESSED,
            ObservationCompression.Snappy => Parquet.Meta.CompressionCodec.SNAPPY,
            _ => Parquet.Meta.CompressionCodec.ZSTD,
        };
        Assert.All(file.Schema.GetDataFields(), f => Assert.Equal(codec, group.GetMetadata(f)!.MetaData!.Codec));
        Assert.Equal(500, group.RowCount);
    }

    private const string PinnedEventsSha256 = "17E8524F1D820554A81F9D9B8638592E8B85E3F745F747F9EBC3B801583D5E0C";

    private static string Hash(string dir, string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(dir, file))));
}
