"""Numba kernels of :mod:`sciml.chaos.integrate._compiled` (imported on first use: compiling or
loading them from numba's on-disk cache costs seconds, which plain ``import sciml.chaos`` should
not pay)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

_ERR_ORDER = 7  # order of DOP853's error estimator

#: Signature of a compiled right-hand side ``rhs(x, p, out, work)``: state (d,), parameters (k,),
#: output (d,) and scratch memory (``work_len``,), all float64 and contiguous.
RHS_SIG = types.void(types.float64[::1], types.float64[::1], types.float64[::1],
                     types.float64[::1])
_FN = types.FunctionType(RHS_SIG)
_F1, _F2, _F3 = types.float64[::1], types.float64[:, ::1], types.float64[:, :, ::1]
_I1 = types.int64[::1]


@njit(RHS_SIG, cache=True)
def poly_rhs_packed(x, p, out, work):  # pragma: no cover - compiled
    r"""Sparse polynomial :math:`C^\top\phi(x)` from a packed parameter row (:func:`pack_polynomial`)."""
    n_need = int(p[0])
    n_terms = int(p[1])
    work[0] = 1.0
    for q in range(n_need):
        base = 2 + 3 * q
        work[int(p[base])] = work[int(p[base + 1])] * x[int(p[base + 2])]
    for j in range(out.shape[0]):
        out[j] = 0.0
    base = 2 + 3 * n_need
    for q in range(n_terms):
        out[int(p[base + n_terms + q])] += p[base + 2 * n_terms + q] * work[int(p[base + q])]


# ----------------------------------------------------------------------------------------------
# Kernels (one compiled DOP853 and one Euler-Maruyama loop; the right-hand side is a compiled
# function passed by address, so a new system never recompiles them)
# ----------------------------------------------------------------------------------------------


@njit(types.void(_FN, _F2, _F1, _F2, types.int64, types.float64, types.float64, types.int64,
                 types.float64, _F2, _F1, _F1, _F1, _F2, _F2, _F3, _I1, _I1, _I1), cache=True,
      nogil=True)
def _dop853_rows(rhs, y0, grid, P, work_len, rtol, atol, max_steps, blowup, A, Bw, E5, E3,
                 A_extra, D, out, status, n_acc, nfev):  # pragma: no cover - compiled
    n_rows, dim = y0.shape
    n_t = grid.shape[0]
    ns = Bw.shape[0]
    expo = -1.0 / (_ERR_ORDER + 1)
    K = np.empty((ns + 4, dim))
    Y = np.empty(dim)
    Ynew = np.empty(dim)
    F0 = np.empty(dim)
    tmp = np.empty(dim)
    coef = np.empty((7, dim))
    work = np.empty(max(work_len, 1))
    t_end = grid[n_t - 1]
    for b in range(n_rows):
        p = P[b]
        T = grid[0]
        for j in range(dim):
            Y[j] = y0[b, j]
            out[b, 0, j] = Y[j]
        nxt = 1
        if nxt >= n_t:
            continue
        rhs(Y, p, F0, work)
        nfev[b] += 1
        # Hairer's starting step [HNW93, II.4]
        t_span = t_end - T
        d0 = 0.0
        d1 = 0.0
        for j in range(dim):
            sc = atol + abs(Y[j]) * rtol
            d0 += (Y[j] / sc) ** 2
            d1 += (F0[j] / sc) ** 2
        d0 = math.sqrt(d0 / dim)
        d1 = math.sqrt(d1 / dim)
        if d0 < 1e-5 or d1 < 1e-5:
            h0 = 1e-6
        else:
            h0 = 0.01 * d0 / max(d1, 1e-300)
        h0 = min(h0, t_span)
        for j in range(dim):
            tmp[j] = Y[j] + h0 * F0[j]
        rhs(tmp, p, K[1], work)
        nfev[b] += 1
        d2 = 0.0
        for j in range(dim):
            sc = atol + abs(Y[j]) * rtol
            d2 += ((K[1, j] - F0[j]) / sc) ** 2
        d2 = math.sqrt(d2 / dim) / h0
        big = max(d1, d2)
        if big <= 1e-15:
            h1 = max(1e-6, h0 * 1e-3)
        else:
            h1 = (0.01 / max(big, 1e-300)) ** (1.0 / (_ERR_ORDER + 1))
        H = min(min(100 * h0, h1), t_span)
        H = max(H, 1e-12)
        after_reject = False
        n_try = 0
        while True:
            t_target = t_end
            hit = T + H >= t_target - 1e-12 * max(1.0, abs(t_target))
            h = t_target - T if hit else H
            for j in range(dim):
                K[0, j] = F0[j]
            for st in range(1, ns):
                for j in range(dim):
                    acc_ = 0.0
                    for i in range(st):
                        acc_ += A[st, i] * K[i, j]
                    tmp[j] = Y[j] + h * acc_
                rhs(tmp, p, K[st], work)
            for j in range(dim):
                acc_ = 0.0
                for i in range(ns):
                    acc_ += Bw[i] * K[i, j]
                Ynew[j] = Y[j] + h * acc_
            rhs(Ynew, p, K[ns], work)
            nfev[b] += ns
            n5 = 0.0
            n3 = 0.0
            finite = True
            ymax = 0.0
            for j in range(dim):
                if not math.isfinite(Ynew[j]):
                    finite = False
                ymax = max(ymax, abs(Ynew[j]))
                sc = atol + rtol * max(abs(Y[j]), abs(Ynew[j]))
                e5 = 0.0
                e3 = 0.0
                for i in range(ns + 1):
                    e5 += E5[i] * K[i, j]
                    e3 += E3[i] * K[i, j]
                e5 /= sc
                e3 /= sc
                n5 += e5 * e5
                n3 += e3 * e3
            den = n5 + 0.01 * n3
            err = abs(h) * n5 / math.sqrt(den * dim) if den > 0 else 0.0
            if not math.isfinite(err):
                finite = False
            acc = err < 1.0 and finite
            n_try += 1
            if not finite:
                fac = 0.2
            else:
                fac = 10.0 if err == 0 else 0.9 * max(err, 1e-300) ** expo
                if acc:
                    fac = min(fac, 1.0 if after_reject else 10.0)
                else:
                    fac = min(max(fac, 0.2), 1.0)
            H_next = max(h * fac, H) if (acc and hit) else h * fac
            after_reject = not acc
            T_new = t_target if (acc and hit) else T + h
            if acc:
                # dense output onto grid points in (T, T_new]
                tol = T_new * (1 + 1e-15) + 1e-300
                upto = nxt
                while upto < n_t and grid[upto] <= tol:
                    upto += 1
                if upto > nxt:
                    for jj in range(3):
                        st = ns + 1 + jj
                        for j in range(dim):
                            acc_ = 0.0
                            for i in range(st):
                                acc_ += A_extra[jj, i] * K[i, j]
                            tmp[j] = Y[j] + h * acc_
                        rhs(tmp, p, K[st], work)
                    nfev[b] += 3
                    for j in range(dim):
                        dlt = Ynew[j] - Y[j]
                        coef[0, j] = dlt
                        coef[1, j] = h * K[0, j] - dlt
                        coef[2, j] = 2 * dlt - h * (K[ns, j] + K[0, j])
                        for r in range(4):
                            acc_ = 0.0
                            for i in range(ns + 4):
                                acc_ += D[r, i] * K[i, j]
                            coef[3 + r, j] = h * acc_
                    for kk in range(nxt, upto):
                        x = (grid[kk] - T) / h
                        for j in range(dim):
                            val = 0.0
                            for i in range(6, -1, -1):
                                val = (val + coef[i, j]) * (x if (6 - i) % 2 == 0 else 1 - x)
                            out[b, kk, j] = val + Y[j]
                    nxt = upto
                for j in range(dim):
                    Y[j] = Ynew[j]
                    F0[j] = K[ns, j]
                T = T_new
                n_acc[b] += 1
            H = H_next
            bad = acc and ymax > blowup
            if (not finite) and H < 1e-13 * max(1.0, abs(T)):
                bad = True
            if bad:
                status[b] = 1
            elif H < 1e-14 * max(1.0, abs(T)):
                status[b] = 2
            elif n_try >= max_steps:
                status[b] = 3
            if status[b] != 0 or nxt >= n_t:
                break
        if status[b] != 0:
            for kk in range(n_t):
                for j in range(dim):
                    out[b, kk, j] = np.nan


@njit(types.void(_FN, _F2, _F1, _I1, _F2, types.int64, types.float64, _F2, _F3, types.float64,
                 _F3, types.boolean[::1]), cache=True, nogil=True)
def _em_rows(rhs, y0, dts, nsub, P, work_len, noise, sig, Z, blowup, out,
             alive):  # pragma: no cover - compiled
    n_rows, dim = y0.shape
    x = np.empty(dim)
    fx = np.empty(dim)
    work = np.empty(max(work_len, 1))
    for b in range(n_rows):
        p = P[b]
        for j in range(dim):
            x[j] = y0[b, j]
            out[b, 0, j] = x[j]
        q = 0
        for k in range(dts.shape[0]):
            d = dts[k] / nsub[k]
            sq = noise * math.sqrt(d)
            for _ in range(nsub[k]):
                rhs(x, p, fx, work)
                for j in range(dim):
                    x[j] = x[j] + d * fx[j] + (sq * sig[b, j]) * Z[q, b, j]
                q += 1
            bad = False
            for j in range(dim):
                if not math.isfinite(x[j]) or abs(x[j]) > blowup:
                    bad = True
            if bad:
                alive[b] = False
                for j in range(dim):
                    x[j] = 0.0
            for j in range(dim):
                out[b, k + 1, j] = x[j]
        if not alive[b]:
            for kk in range(out.shape[1]):
                for j in range(dim):
                    out[b, kk, j] = np.nan


