using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Daemons;

namespace FdrHarness.Lake.Accounting;

/// <summary>
/// abacus-account, abacus-rse, abacus-collection-replica: fold the counter rows every replica change writes
/// (updated_account_counter, updated_rse_counter, updated_col_rep) into usage. An item is a row. With bulk 0
/// (abacus-collection-replica's default) a pass reads the whole backlog at once (#4149): its memory grows with it.
/// </summary>
public sealed class Abacus(LakeState lake, DaemonSpec spec) : CountingDaemon(lake, spec);
