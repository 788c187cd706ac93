// The socket tests measure latency on a shared 2-core machine: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
