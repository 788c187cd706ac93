// These tests run a policy server, a simulated robot and libtorch on a shared 2-core machine: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
