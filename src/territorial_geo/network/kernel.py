"""Compiled routing kernels (numba): bounded and multi-source Dijkstra over a CSR graph.

Every origin may have several *seeds* (a point snapped onto a road segment enters the graph
at both ends of the segment, each with its own offset) and every target several
*attachments* (it is reached from either end of its segment). The kernel returns the best
time per (origin, target) pair within a budget; a pair reached through two attachments is
reduced to its minimum.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from numba import njit

from territorial_geo.errors import NetworkError


def build_csr(
    u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays ``(indptr, indices, weights)`` from edge lists.

    Parallel edges keep the minimum weight.
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    w = np.asarray(w, dtype=np.float64)
    if len(u):
        order = np.lexsort((w, v, u))
        u, v, w = u[order], v[order], w[order]
        keep = np.ones(len(u), dtype=bool)
        keep[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        u, v, w = u[keep], v[keep], w[keep]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, u + 1, 1)
    indptr = np.cumsum(indptr)
    return indptr, v.astype(np.int32), w.astype(np.float64)


@njit(cache=True, nogil=True)
def _sift_up(hk, hn, pos, i):
    k = hk[i]
    n = hn[i]
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= k:
            break
        hk[i] = hk[p]
        hn[i] = hn[p]
        pos[hn[i]] = i
        i = p
    hk[i] = k
    hn[i] = n
    pos[n] = i


@njit(cache=True, nogil=True)
def _sift_down(hk, hn, pos, i, size):
    k = hk[i]
    n = hn[i]
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and hk[c + 1] < hk[c]:
            c += 1
        if hk[c] >= k:
            break
        hk[i] = hk[c]
        hn[i] = hn[c]
        pos[hn[i]] = i
        i = c
    hk[i] = k
    hn[i] = n
    pos[n] = i


@njit(cache=True, nogil=True)
def _dijkstra(indptr, indices, weights, seeds, seed_d, seed_label, limit, dist, label, touched,
              hk, hn, pos):
    """Multi-seed Dijkstra bounded by ``limit`` with an indexed binary heap (decrease-key).

    ``pos[v]`` is -1 for a node never queued, its heap slot while queued, -2 once settled;
    every node enters the heap at most once. Returns the number of touched nodes, listed in
    ``touched``; the caller resets ``dist`` and ``pos`` for them before the next run.
    """
    nt = 0
    size = 0
    for k in range(seeds.shape[0]):
        s = seeds[k]
        d = seed_d[k]
        if d <= limit and d < dist[s]:
            dist[s] = d
            label[s] = seed_label[k]
            if pos[s] == -1:
                touched[nt] = s
                nt += 1
                hk[size] = d
                hn[size] = s
                _sift_up(hk, hn, pos, size)
                size += 1
            else:
                hk[pos[s]] = d
                _sift_up(hk, hn, pos, pos[s])
    while size > 0:
        u = hn[0]
        d = hk[0]
        pos[u] = -2
        size -= 1
        if size > 0:
            hk[0] = hk[size]
            hn[0] = hn[size]
            _sift_down(hk, hn, pos, 0, size)
        lu = label[u]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + weights[e]
            if nd <= limit and nd < dist[v]:
                p = pos[v]
                if p == -1:
                    touched[nt] = v
                    nt += 1
                    dist[v] = nd
                    label[v] = lu
                    hk[size] = nd
                    hn[size] = v
                    _sift_up(hk, hn, pos, size)
                    size += 1
                elif p >= 0:
                    dist[v] = nd
                    label[v] = lu
                    hk[p] = nd
                    _sift_up(hk, hn, pos, p)
    return nt


@njit(cache=True, nogil=True)
def _grow(a, m, cap):
    b = np.empty(cap, a.dtype)
    b[:m] = a[:m]
    return b


@njit(cache=True, nogil=True)
def _many_bounded(indptr, indices, weights, sptr, snode, soff, limit, tptr, tids, toff,
                  all_nodes, n_targets, dedupe):
    """One bounded Dijkstra per origin (seeds ``snode[sptr[i]:sptr[i+1]]``).

    With ``all_nodes`` every touched node is a hit (target = node); otherwise the targets
    attached to each touched node (``tids[tptr[node]:tptr[node+1]]`` with per-attachment
    offsets ``toff``) are hits. Hits are (origin, target, time). A target attached to
    several nodes (``dedupe``: targets ``0..n_targets-1`` with more than one attachment)
    keeps its best time per origin, and each origin's targets are emitted once, in target
    order; otherwise every hit is emitted as found.
    """
    n = indptr.shape[0] - 1
    n_orig = sptr.shape[0] - 1
    dist = np.full(n, np.inf)
    label = np.zeros(n, np.int64)
    touched = np.empty(n, np.int32)
    hk = np.empty(n, np.float64)
    hn = np.empty(n, np.int32)
    pos = np.full(n, -1, np.int32)
    cap = max(1024, n_orig * 8)
    out_o = np.empty(cap, np.int32)
    out_t = np.empty(cap, np.int32)
    out_d = np.empty(cap, np.float64)
    m = 0
    best = np.full(n_targets if dedupe else 0, np.inf)
    found = np.empty(n_targets if dedupe else 0, np.int64)
    for i in range(n_orig):
        a = sptr[i]
        b = sptr[i + 1]
        nt = _dijkstra(indptr, indices, weights, snode[a:b], soff[a:b], np.zeros(b - a, np.int64),
                       limit, dist, label, touched, hk, hn, pos)
        if dedupe:
            # best time per target over its attachments, each target written once
            cnt = 0
            for k in range(nt):
                node = touched[k]
                dn = dist[node]
                for j in range(tptr[node], tptr[node + 1]):
                    tt = dn + toff[j]
                    tg = tids[j]
                    if tt <= limit and tt < best[tg]:
                        if best[tg] == np.inf:
                            found[cnt] = tg
                            cnt += 1
                        best[tg] = tt
                dist[node] = np.inf
                pos[node] = -1
            if m + cnt > cap:
                cap = max(2 * cap, m + cnt)
                out_o = _grow(out_o, m, cap)
                out_t = _grow(out_t, m, cap)
                out_d = _grow(out_d, m, cap)
            hit = np.sort(found[:cnt])
            for k in range(cnt):
                tg = hit[k]
                out_o[m] = i
                out_t[m] = tg
                out_d[m] = best[tg]
                best[tg] = np.inf
                m += 1
            continue
        need = m + nt
        if not all_nodes:
            need = m
            for k in range(nt):
                need += tptr[touched[k] + 1] - tptr[touched[k]]
        if need > cap:
            cap = max(2 * cap, need)
            out_o = _grow(out_o, m, cap)
            out_t = _grow(out_t, m, cap)
            out_d = _grow(out_d, m, cap)
        for k in range(nt):
            node = touched[k]
            dn = dist[node]
            if all_nodes:
                out_o[m] = i
                out_t[m] = node
                out_d[m] = dn
                m += 1
            else:
                for j in range(tptr[node], tptr[node + 1]):
                    tt = dn + toff[j]
                    if tt <= limit:
                        out_o[m] = i
                        out_t[m] = tids[j]
                        out_d[m] = tt
                        m += 1
            dist[node] = np.inf
            pos[node] = -1
    return out_o[:m], out_t[:m], out_d[:m]


def _as_groups(nodes, offsets, n_groups: int | None = None):
    """Normalise seeds/attachments to a CSR of groups.

    ``nodes`` is either a 1-D array (one node per group) or a 2-D array (one row per group,
    ``-1`` for an unused slot); ``offsets`` has the same shape (seconds).
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    offsets = np.zeros(nodes.shape) if offsets is None else np.asarray(offsets, dtype=np.float64)
    if nodes.shape != offsets.shape:
        raise NetworkError(f"seed nodes {nodes.shape} and offsets {offsets.shape} differ in shape")
    if nodes.ndim == 1:
        nodes = nodes[:, None]
        offsets = offsets[:, None]
    valid = (nodes >= 0) & np.isfinite(offsets)
    counts = valid.sum(axis=1)
    ptr = np.zeros(len(nodes) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(counts)
    return ptr, nodes[valid], offsets[valid]


def bounded_times(
    csr: tuple[np.ndarray, np.ndarray, np.ndarray],
    origins: np.ndarray,
    budget_s: float,
    *,
    origin_offsets: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    target_offsets: np.ndarray | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """Travel times within a budget from many origins (one-to-many, batched).

    Parameters
    ----------
    csr
        ``(indptr, indices, weights)`` from :meth:`RoadNetwork.csr`; pass the reversed CSR
        to get times *to* the origins (many-to-one).
    origins
        Origin node positions: a 1-D array (one node each) or a 2-D array, one row of seed
        nodes per origin (``-1`` for an unused slot).
    budget_s
        Time budget in seconds (must be > 0); times above it are not returned.
    origin_offsets
        Seconds added at each seed (same shape as ``origins``).
    targets
        Target node positions, 1-D or 2-D like ``origins`` (a target reached through any of
        its attachment nodes); all nodes when None.
    target_offsets
        Seconds added after each attachment node (same shape as ``targets``).
    threads
        Worker threads (the kernel releases the GIL); default ``min(2, os.cpu_count())``.

    Returns
    -------
    pandas.DataFrame
        Long table ``origin`` (row of ``origins``), ``target`` (row of ``targets`` or node
        position), ``time_s``: the best time per pair within the budget.
    """
    if not budget_s > 0:
        raise NetworkError(f"the time budget must be positive, got {budget_s} s")
    indptr, indices, weights = csr
    n = indptr.shape[0] - 1
    sptr, snode, soff = _as_groups(origins, origin_offsets)
    n_orig = len(sptr) - 1
    all_nodes = targets is None and target_offsets is None
    if all_nodes:
        tptr = np.zeros(1, np.int64)
        tids = np.zeros(1, np.int64)
        toff = np.zeros(1, np.float64)
        # one Dijkstra per origin emits each vertex it settles once: no pair to reduce,
        # however many seeds the origin has
        multi = False
        n_targets = 0
    else:
        if targets is None:
            targets = np.arange(n, dtype=np.int64)
        gptr, gnode, goff = _as_groups(targets, target_offsets)
        gid = np.repeat(np.arange(len(gptr) - 1, dtype=np.int64), np.diff(gptr))
        order = np.argsort(gnode, kind="stable")
        tptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(tptr, gnode + 1, 1)
        tptr = np.cumsum(tptr)
        tids = gid[order]
        toff = goff[order]
        multi = len(gnode) > len(gptr) - 1
        n_targets = len(gptr) - 1
    threads = threads or min(2, os.cpu_count() or 1)
    bounds = np.linspace(0, n_orig, max(1, min(threads * 4, n_orig)) + 1).astype(int)
    chunks = list(zip(bounds[:-1], bounds[1:], strict=True))

    def run(chunk: tuple[int, int]):
        a, b = chunk
        sub = sptr[a:b + 1] - sptr[a]
        o, t, d = _many_bounded(indptr, indices, weights, sub, snode[sptr[a]:sptr[b]],
                                soff[sptr[a]:sptr[b]], float(budget_s), tptr, tids, toff,
                                all_nodes, n_targets, multi)
        return o.astype(np.int64) + a, t.astype(np.int64), d

    if threads > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(run, chunks))
    else:
        parts = [run(c) for c in chunks]
    o = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int64)
    t = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int64)
    d = np.concatenate([p[2] for p in parts]) if parts else np.empty(0)
    return pd.DataFrame({"origin": o, "target": t, "time_s": d})


def nearest_times(
    csr: tuple[np.ndarray, np.ndarray, np.ndarray],
    sources: np.ndarray,
    *,
    source_offsets: np.ndarray | None = None,
    limit_s: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Time from the closest of several sources to every node, in one Dijkstra pass.

    Use the reversed CSR for the time from each node *to* its nearest site.

    Parameters
    ----------
    csr
        CSR arrays.
    sources
        Source nodes: 1-D, or 2-D with one row of seed nodes per source (``-1`` unused).
    source_offsets
        Seconds at each seed (same shape as ``sources``).
    limit_s
        Stop beyond this time.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Per node: time in seconds (inf when unreachable) and the row in ``sources`` of the
        nearest source (-1 when unreachable).
    """
    indptr, indices, weights = csr
    n = indptr.shape[0] - 1
    if len(np.asarray(sources)) == 0:
        raise NetworkError("no source site given")
    sptr, snode, soff = _as_groups(sources, source_offsets)
    lab = np.repeat(np.arange(len(sptr) - 1, dtype=np.int64), np.diff(sptr))
    dist = np.full(n, np.inf)
    label = np.full(n, -1, np.int64)
    touched = np.empty(n, np.int32)
    hk = np.empty(n, np.float64)
    hn = np.empty(n, np.int32)
    pos = np.full(n, -1, np.int32)
    _dijkstra(indptr, indices, weights, snode, soff, lab, float(limit_s), dist, label, touched,
              hk, hn, pos)
    return dist, label
