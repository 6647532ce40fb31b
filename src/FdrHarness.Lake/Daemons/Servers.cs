using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Workload;

namespace FdrHarness.Lake.Daemons;

/// <summary>
/// rucio-server: its load is the harness's own API calls (file registrations, rules, lifetimes, noise uploads); a
/// call takes effect when a server pod has processed it, so a server outage delays the whole rehearsal.
/// </summary>
public sealed class RucioServer(DaemonSpec spec, LakeContext context) : QueueDaemon(spec, context, new Queue<int>())
{
    internal PlanDriver? Workload { get; set; }

    public long Calls;

    // The calls waiting or in flight by slot, their slots in the queue (a daemon's queue holds ids); a slot is free
    // again once its call is applied.
    private ApiCall[] _calls = new ApiCall[1024];
    private int[] _free = new int[1024];
    private int _freeCount, _slots;

    public void Call(ApiCall call)
    {
        Calls++;
        int slot;
        if (_freeCount > 0) slot = _free[--_freeCount];
        else
        {
            slot = _slots++;
            if (slot == _calls.Length) Array.Resize(ref _calls, 2 * _calls.Length);
        }
        _calls[slot] = call;
        Queue.Enqueue(slot);
    }

    protected override void Apply(int slot)
    {
        var call = _calls[slot];
        _calls[slot] = default; // the batch it names is not kept by the slot
        if (_freeCount == _free.Length) Array.Resize(ref _free, 2 * _free.Length);
        _free[_freeCount++] = slot;
        Workload!.Apply(call);
    }
}
