"""Where trainings run: this machine's process pool (the default) or a Dask cluster (MNISTLIB_SCHEDULER).

The interface both implement is in backend_interface.py; this module only picks one (and imports it, so neither
backend imports this module back).
"""

from mnistlib.training.backend_interface import Backend, ClusterUnavailable, scheduler_address

__all__ = ["Backend", "ClusterUnavailable", "from_environment", "scheduler_address"]


def from_environment() -> Backend:
    """The backend the environment asks for: a Dask cluster when MNISTLIB_SCHEDULER is set, else local processes.
    ClusterUnavailable when the scheduler cannot be reached — never a silent fallback to this machine."""
    address = scheduler_address()
    if address is None:
        from mnistlib.training.local_pool import LocalPool

        return LocalPool()
    from mnistlib.training.dask_cluster import DaskCluster

    return DaskCluster(address)
