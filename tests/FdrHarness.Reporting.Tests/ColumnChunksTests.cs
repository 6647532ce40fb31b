using System.Text;
using FdrHarness.Reporting.Input;
using Parquet;
using Parquet.Schema;

namespace FdrHarness.Reporting.Tests;

/// <summary>The report's own column decoder reads what Parquet.Net reads, from a file Parquet.Net wrote by itself.</summary>
public sealed class ColumnChunksTests
{
    private static readonly DataField Few = new DataField<string>("few"), Many = new DataField<string>("many"),
        Size = new DataField<long?>("size"), Retry = new DataField<int?>("retry");
    private static readonly DateTimeDataField Created = new("created_at", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Nanos);

    [Theory]
    [InlineData(CompressionMethod.None)]
    [InlineData(CompressionMethod.Zstd)]
    [InlineData(CompressionMethod.Snappy)]
    public async Task ReadsWhatParquetNetReads(CompressionMethod compression)
    {
        var dir = Repo.TempDir("chunks");
        var path = Path.Combine(dir, "columns.parquet");
        try
        {
            var random = new Random(18);
            string?[] words = ["CERN-PROD", "DESY-DISK", "é-ü", "𝄞-clef", ""];
            var groups = new[] { 1000, 37 }.Select(rows => (
                Few: Enumerable.Range(0, rows).Select(i => i % 7 == 0 ? null : words[random.Next(words.Length)]).ToArray(),
                Many: Enumerable.Range(0, rows).Select(i => i % 5 == 0 ? null : $"file-{random.NextInt64()}-{(char)('α' + i % 20)}").ToArray(),
                Size: Enumerable.Range(0, rows).Select(i => i % 3 == 0 ? null : (long?)random.NextInt64(-1, long.MaxValue)).ToArray(),
                Retry: Enumerable.Range(0, rows).Select(i => i % 4 == 0 ? null : (int?)random.Next(int.MinValue, int.MaxValue)).ToArray(),
                Created: Enumerable.Range(0, rows).Select(_ => new DateTime(2019, 11, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(random.NextInt64(0, TimeSpan.TicksPerDay * 30))).ToArray())).ToList();
            await using (var stream = File.Create(path))
            await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(Few, Many, Size, Retry, Created), stream,
                new ParquetOptions { CompressionMethod = compression }))
            {
                foreach (var g in groups)
                {
                    using var group = writer.CreateRowGroup();
                    await group.WriteAsync(Few, g.Few);
                    await group.WriteAsync(Many, g.Many);
                    await group.WriteAsync<long>(Size, g.Size);
                    await group.WriteAsync<int>(Retry, g.Retry);
                    await group.WriteAsync<DateTime>(Created, g.Created);
                }
            }

            await using var file = File.OpenRead(path);
            await using var reader = await ParquetReader.CreateAsync(file);
            using var chunks = new ColumnChunks(path);
            var fields = reader.Schema.GetDataFields().ToDictionary(f => f.Name);
            for (var r = 0; r < reader.RowGroupCount; r++)
            {
                using var group = reader.OpenRowGroupReader(r);
                var rows = (int)group.RowCount;
                foreach (var name in new[] { "few", "many" })
                {
                    var field = fields[name];
                    var chunk = group.GetMetadata(field);
                    Assert.Equal(compression != CompressionMethod.Snappy,
                        ColumnChunks.Supported(chunk, Parquet.Meta.Type.BYTE_ARRAY, field.MaxDefinitionLevel, field.MaxRepetitionLevel, dictionary: true));
                    if (compression == CompressionMethod.Snappy) continue;
                    var expected = new string?[rows];
                    await group.ReadAsync(field, expected.AsMemory());
                    var symbols = new Symbols();
                    var ids = new int[rows];
                    chunks.Ids(chunk!, field.MaxDefinitionLevel, rows, symbols, ids);
                    Assert.Equal(expected, ids.Select(id => id < 0 ? null : symbols[id]));
                    var hashes = new ulong[rows];
                    chunks.Hashes(chunk!, field.MaxDefinitionLevel, rows, hashes);
                    Assert.Equal(expected.Select(s => s is null ? 0 : EventColumnReader.NameHash(Encoding.UTF8.GetBytes(s))), hashes);
                }
                if (compression == CompressionMethod.Snappy) continue;

                var numbers = new long[rows];
                var size = fields["size"];
                var sizes = new long?[rows];
                await group.ReadAsync(size, sizes.AsMemory());
                chunks.Numbers(group.GetMetadata(size)!, size.MaxDefinitionLevel, rows, -1, nanosToTicks: false, numbers);
                Assert.Equal(sizes.Select(s => s ?? -1), numbers);

                var retry = fields["retry"];
                var retries = new int?[rows];
                await group.ReadAsync(retry, retries.AsMemory());
                chunks.Numbers(group.GetMetadata(retry)!, retry.MaxDefinitionLevel, rows, -1, nanosToTicks: false, numbers);
                Assert.Equal(retries.Select(s => s ?? -1L), numbers);

                var created = fields["created_at"];
                var times = new DateTime[rows];
                await group.ReadAsync(created, times.AsMemory());
                chunks.Numbers(group.GetMetadata(created)!, created.MaxDefinitionLevel, rows, -1, nanosToTicks: true, numbers);
                Assert.Equal(times.Select(t => t.Ticks), numbers);
                Assert.Equal(groups[r].Created.Select(t => t.Ticks), numbers);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
