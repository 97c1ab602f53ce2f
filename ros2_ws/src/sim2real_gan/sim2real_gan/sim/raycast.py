"""Closed-form ray casting of the analytic scene, vectorised over all pixels.

The camera ray of pixel (i, j) is ``(x_j, y_i, 1)`` in the optical frame with
``x_j = (j - cx) / fx`` and ``y_i = (i - cy) / fy``; a hit at ray parameter ``t`` has camera
z = t, so ``t`` *is* the metric depth. For each primitive the intersection is a quadratic in
``t`` whose coefficients are polynomials in ``x_j, y_i``, evaluated by broadcasting 1-D
row/column vectors inside the primitive's projected bounding rectangle only (pass 1).

Pass 2 visits each primitive's winning pixels once and derives, from the exact hit point in
the primitive's local frame: the camera-frame normal, the surface UV (equal-area azimuthal
map on ellipsoids, pseudo-angle x length on cylinders: no trigonometry), the class label, and where
the same material point is one time step later (pixel x', y' and depth z' in the next
camera) - the ground-truth flow. Per-pixel planes are stored planar (C,H,W) for speed.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from sim2real_gan.sim import config as C
from sim2real_gan.sim.geometry import Geometry, Planes, azimuthal_uv, pseudo_angle
from sim2real_gan.sim.scene import CAVITY, CYLINDER, PrimitiveSpec, SceneState

_SIGNS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
f32 = np.float32
__all__ = ["Geometry", "Raycaster"]


class Raycaster:
    """Casts all pixel rays of a camera against the primitives of one scene.

    Args:
        specs: the scene's primitives (index = primitive id = atlas tile).
        config: image size, field of view, near/far.
        tile_origin: (P,2) atlas UV of each tile's origin; tile_scale: (P,) UV extent.
        patch_field: (S,S) float32 atlas whose positive part marks patches of each
            primitive's ``patches`` class (see ``textures.patch_field_atlas``).
        K: (3,3) intrinsics of this camera (default ``config.K``; a stereo eye's own).
    """

    def __init__(self, specs: Sequence[PrimitiveSpec], config: C.SimConfig,
                 tile_origin: np.ndarray, tile_scale: np.ndarray, patch_field: np.ndarray,
                 K: np.ndarray | None = None):  # noqa: N803
        self.specs = list(specs)
        self.config = config
        K = config.K if K is None else np.asarray(K, np.float64)  # noqa: N806
        self.fx, self.fy, self.cx, self.cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
        self.W, self.H = config.width, config.height
        self.xs = ((np.arange(self.W) - self.cx) / self.fx).astype(f32)
        self.ys = ((np.arange(self.H) - self.cy) / self.fy).astype(f32)
        self.tile_origin = np.asarray(tile_origin, f32)
        self.tile_scale = np.asarray(tile_scale, f32)
        self.patch_field = patch_field
        patch_classes = {s.patches for s in self.specs if s.patches is not None}
        if len(patch_classes) > 1:
            raise ValueError(f"one patch class is supported, got {sorted(patch_classes)}")
        self.patch_class = patch_classes.pop() if patch_classes else None
        half, mid = [], []
        for spec in self.specs:
            r0, r1, r2 = spec.size
            if spec.kind == CYLINDER:
                half.append((r0, r0, (r2 - r1) / 2))
                mid.append((0.0, 0.0, (r1 + r2) / 2))
            else:
                half.append((r0, r1, r2))
                mid.append((0.0, 0.0, 0.0))
        self._box_half, self._box_mid = np.array(half), np.array(mid)
        self._always_full = np.array([s.kind == CAVITY for s in self.specs])
        cyl = np.array([s.kind == CYLINDER for s in self.specs])
        size = np.array([s.size for s in self.specs], float)
        inv = 1.0 / np.where(cyl[:, None], 1.0, size)
        flip = np.where(self._always_full[:, None], [1.0, 1.0, -1.0], 1.0)
        # quadric: ellipsoids |diag(1/r) local|^2 = 1; cylinders x^2 + y^2 = r^2
        self._quad_scale = np.where(cyl[:, None], [1.0, 1.0, 0.0], inv)
        self._quad_c0 = np.where(cyl, size[:, 0] ** 2, 1.0)
        self._uv_scale = flip * inv  # local point -> unit sphere (cylinders: unscaled)
        self._normal_scale = np.where(cyl[:, None], [1.0, 1.0, 0.0],
                                      inv * inv * np.where(self._always_full, -1.0, 1.0)[:, None])
        self._labels_of = np.array([0] + [s.label for s in self.specs], np.uint8)

    # -- pass 1: nearest hit ------------------------------------------------------------
    def _rects(self, st: SceneState) -> tuple[list[tuple[int, int, int, int] | None], np.ndarray]:
        """Pixel rectangle (y0, y1, x0, x1) containing each primitive's projection (or None),
        and whether the primitive lies wholly beyond the near plane.

        Projects the 8 corners of each primitive's oriented bounding box (all at once).
        """
        corners = self._box_mid[:, None, :] + _SIGNS[None] * self._box_half[:, None, :]
        world = np.einsum("pij,pkj->pki", st.R, corners) + st.c[:, None, :]
        cam = (world - st.cam_p) @ st.cam_R  # (P,8,3)
        z = cam[..., 2]
        near = self.config.near_m
        with np.errstate(divide="ignore", invalid="ignore"):
            px = self.fx * cam[..., 0] / z + self.cx
            py = self.fy * cam[..., 1] / z + self.cy
        x0 = np.clip(np.floor(px.min(1)), 0, self.W).astype(int)
        x1 = np.clip(np.ceil(px.max(1)) + 1, 0, self.W).astype(int)
        y0 = np.clip(np.floor(py.min(1)), 0, self.H).astype(int)
        y1 = np.clip(np.ceil(py.max(1)) + 1, 0, self.H).astype(int)
        full = (z <= near).any(1) | self._always_full
        gone = (z <= near).all(1) & ~self._always_full
        out: list[tuple[int, int, int, int] | None] = []
        for k in range(len(self.specs)):
            if gone[k]:
                out.append(None)
            elif full[k]:
                out.append((0, self.H, 0, self.W))
            elif x0[k] >= x1[k] or y0[k] >= y1[k]:
                out.append(None)
            else:
                out.append((int(y0[k]), int(y1[k]), int(x0[k]), int(x1[k])))
        return out, (z > near).all(1) & ~self._always_full

    def _tables(self, st: SceneState, nxt: SceneState) -> dict:
        """Per-frame coefficients of every primitive, computed for all primitives at once.

        quad: per primitive [G00, G11, G22, G01, G02, G12, b0, b1, b2, c] of the hit
        quadratic (see :meth:`_hit_t`); axial: [d0, d1, d2, o] of a cylinder's axial
        coordinate; coef: (P,9,4) affine maps of the camera-frame hit point ``(x t, y t, t,
        1)`` to the local point scaled to the unit sphere (rows 0-2; row 2 negated for the
        cavity so the UV map's singular pole is on its ceiling, under the organs otherwise),
        the unnormalised camera-frame normal (rows 3-5) and the point's position in the next
        camera frame (rows 6-8); inside: the camera is inside a solid (primitive skipped).
        """
        A = np.einsum("pji,jk->pik", st.R, st.cam_R)  # noqa: N806  camera -> local direction
        B = np.einsum("pji,pj->pi", st.R, st.cam_p - st.c)  # camera centre in local frame
        M = self._quad_scale[:, :, None] * A  # noqa: N806
        o2 = B * self._quad_scale
        G = np.einsum("pki,pkj->pij", M, M)  # noqa: N806
        bv = np.einsum("pk,pki->pi", o2, M)
        cc = (o2 * o2).sum(1) - self._quad_c0
        sgn = np.where(self._always_full, 1.0, -1.0)  # far root inside the cavity, else near
        G *= sgn[:, None, None]  # noqa: N806
        quad = np.column_stack([G[:, 0, 0], G[:, 1, 1], G[:, 2, 2], G[:, 0, 1], G[:, 0, 2],
                                G[:, 1, 2], -sgn[:, None] * bv, sgn * cc])
        Nc = np.einsum("ji,pjk->pik", st.cam_R, st.R) * self._normal_scale[:, None, :]  # noqa: N806
        Mn = np.einsum("ji,pjk->pik", nxt.cam_R, nxt.R)  # noqa: N806
        bn = np.einsum("ji,pj->pi", nxt.cam_R, nxt.c - nxt.cam_p)
        coef = np.empty((len(self.specs), 9, 4))
        coef[:, 0:3, :3] = self._uv_scale[:, :, None] * A
        coef[:, 0:3, 3] = self._uv_scale * B
        coef[:, 3:6, :3] = Nc @ A
        coef[:, 3:6, 3] = np.einsum("pij,pj->pi", Nc, B)
        coef[:, 6:9, :3] = Mn @ A
        coef[:, 6:9, 3] = np.einsum("pij,pj->pi", Mn, B) + bn
        return {"quad": quad.tolist(), "axial": np.column_stack([A[:, 2], B[:, 2]]).tolist(),
                "coef": coef.astype(f32), "inside": ((cc <= 0) != self._always_full).tolist()}

    def _hit_t(self, k: int, tables: dict, x: np.ndarray, y: np.ndarray,
               check_near: bool = True) -> np.ndarray | None:
        """(h,w) float32 ray parameter (= depth) of primitive k's visible hit, NaN where none.

        x: (w,) and y: (h,) ray coordinates of the rectangle's columns and rows.
        ``check_near=False`` skips the near-plane test (the caller knows the whole primitive
        lies beyond it). The quadratic t^2 a + 2 t b + c' = 0 with a = [x y 1] G [x y 1]^T and
        b linear in (x, y) is solved as t = (b' + sqrt(b'^2 - a' c)) / a' with sign-folded
        a', b', c (far root for the cavity seen from inside, near root otherwise).
        """
        if tables["inside"][k]:
            return None  # camera inside a solid (cannot happen in generated scenes): skip it
        g00, g11, g22, g01, g02, g12, b0, b1, b2, cc = tables["quad"][k]
        a = (f32(g00) * x * x + f32(2 * g02) * x + f32(g22))[None, :] \
            + (f32(g11) * y * y + f32(2 * g12) * y)[:, None]
        a += (f32(2 * g01) * y)[:, None] * x[None, :]
        b = (f32(b0) * x)[None, :] + (f32(b1) * y + f32(b2))[:, None]
        t = b * b
        t -= f32(cc) * a
        with np.errstate(divide="ignore", invalid="ignore"):
            np.sqrt(t, out=t)  # NaN where the ray misses
            t += b
            t /= a
            if check_near:
                t[t <= self.config.near_m] = np.nan
            spec = self.specs[k]
            if spec.kind == CYLINDER:
                d0, d1, d2, oz = tables["axial"][k]
                s = (f32(d0) * x)[None, :] + (f32(d1) * y + f32(d2))[:, None]
                s *= t
                s += f32(oz)
                t[(s < spec.size[1]) | (s > spec.size[2])] = np.nan
        return t

    @staticmethod
    def _apply(coef: np.ndarray, t: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """Evaluate one primitive's 9 affine maps (``_tables()["coef"][k]``, (9,4)) at the hits
        (x t, y t, t): t, x, y are (n,), or t is (h,w) with x (1,w) and y (h,1)."""
        out = []
        dense = t.ndim == 2
        if not dense:
            px, py = x * t, y * t
        for row in coef:
            if dense:  # M x + M y + M is a cheap broadcast of a row and a column
                v = (x * row[0] + row[2]) + y * row[1]
                v *= t
            else:
                v = px * row[0]
                v += py * row[1]
                v += t * row[2]
            v += row[3]
            out.append(v)
        return out

    def _finish(self, rows: list[np.ndarray], cylinder: tuple | None) -> tuple[list, tuple, list]:
        """normal [n0,n1,n2], local uv (u,v) in [0,1], next [x', y', z'] from evaluated maps.

        ``cylinder``: the (r, s0, s1) of a cylinder, None for ellipsoids."""
        q, n, pn = rows[0:3], rows[3:6], rows[6:9]
        norm = n[0] * n[0]
        norm += n[1] * n[1]
        norm += n[2] * n[2]
        np.sqrt(norm, out=norm)
        np.divide(f32(1.0), norm, out=norm)
        for comp in n:
            comp *= norm
        if cylinder is not None:
            _, s0, s1 = cylinder
            u = pseudo_angle(q[0], q[1])
            v = (q[2] - f32(s0)) * f32(1.0 / (s1 - s0))
        else:
            u, v = azimuthal_uv(q[0], q[1], q[2])
        np.clip(u, 0, 1, out=u)
        np.clip(v, 0, 1, out=v)
        with np.errstate(divide="ignore", invalid="ignore"):
            iz = f32(1.0) / pn[2]
        nx = pn[0] * iz
        nx *= f32(self.fx)
        nx += f32(self.cx)
        ny = pn[1] * iz
        ny *= f32(self.fy)
        ny += f32(self.cy)
        return n, (u, v), [nx, ny, pn[2]]

    def cast(self, st: SceneState, nxt: SceneState) -> Geometry:
        """Ray-cast the scene in state ``st``; ``nxt`` is the state one time step later."""
        H, W = self.H, self.W  # noqa: N806
        depth = np.full((H, W), self.config.far_m, f32)
        pid = np.full((H, W), -1, np.int16)
        rects, beyond_near = self._rects(st)
        tables = self._tables(st, nxt)
        for k in range(len(self.specs)):
            rect = rects[k]
            t = None if rect is None else self._hit_t(
                k, tables, self.xs[rect[2]:rect[3]], self.ys[rect[0]:rect[1]],
                check_near=not beyond_near[k])
            if t is None:
                continue
            y0, y1, x0, x1 = rect
            sub = depth[y0:y1, x0:x1]
            closer = t < sub  # False where t is NaN
            np.copyto(sub, t, where=closer)
            np.copyto(pid[y0:y1, x0:x1], np.int16(k), where=closer)
        background = pid < 0
        depth[background] = 0.0
        out = self._shade_geometry(depth, pid, rects, tables["coef"])
        patch = self._patches(out.uv, pid, out.labels)
        return Geometry(depth=depth, pid=pid, labels=out.labels, normal=out.normal,
                        uv=out.uv, patch=patch, next_xyz=out.nxyz)

    def _shade_geometry(self, depth: np.ndarray, pid: np.ndarray, rects: list,
                        coefs: np.ndarray) -> Planes:
        """Pass 2. The primitive covering most pixels is evaluated densely over its rectangle
        (no gather/scatter); the pixels of all other ellipsoids in one batch, grouped by
        primitive (a few whole-block operations each); cylinders (shafts) one by one."""
        H, W = self.H, self.W  # noqa: N806
        out = Planes(H, W)
        flat_pid = pid.ravel().astype(np.intp)
        counts = np.bincount(flat_pid + 1, minlength=len(self.specs) + 1)[1:]
        if not counts.any():
            return out
        big = int(np.argmax(counts))
        y0, y1, x0, x1 = rects[big]
        spec = self.specs[big]
        rows = self._apply(coefs[big], np.ascontiguousarray(depth[y0:y1, x0:x1]),
                           self.xs[None, x0:x1], self.ys[y0:y1, None])
        n, uv, nx = self._finish(rows, spec.size if spec.kind == CYLINDER else None)
        out.put((slice(y0, y1), slice(x0, x1)), n, self._to_atlas(uv, big), nx, spec.label)
        others = pid[y0:y1, x0:x1] != big
        if others.any():
            out.clear((slice(y0, y1), slice(x0, x1)), others)  # overwritten below or background
        flat_depth = depth.ravel()
        cyl = [k for k, s in enumerate(self.specs) if s.kind == CYLINDER and k != big and counts[k]]
        batch = np.ones(len(self.specs) + 1, bool)
        batch[[0, big + 1, *(k + 1 for k in cyl)]] = False
        idx = np.flatnonzero(batch[flat_pid + 1])
        if idx.size:
            kk = flat_pid[idx]
            order = np.argsort(kk, kind="stable")  # group by primitive: coefficients repeat
            idx, kk = idx[order], kk[order]
            ii, jj = np.divmod(idx, W)
            t, x, y = flat_depth[idx], self.xs[jj], self.ys[ii]
            px, py = x * t, y * t
            spans = np.cumsum(np.bincount(kk, minlength=len(self.specs)))
            maps = np.empty((9, idx.size), f32)
            segments = [(int(k), slice(int(spans[k] - counts[k]), int(spans[k])))
                        for k in np.flatnonzero(counts * batch[1:])]
            for k, sl in segments:  # pixels are grouped by primitive: one block per primitive
                coef = coefs[k]
                block = maps[:, sl]
                np.multiply(coef[:, 0:1], px[sl], out=block)
                block += coef[:, 1:2] * py[sl]
                block += coef[:, 2:3] * t[sl]
                block += coef[:, 3:4]
            n, (u, v), nx = self._finish(list(maps), None)
            for k, sl in segments:
                self._to_atlas((u[sl], v[sl]), k)
            out.put(idx, n, (u, v), nx, self._labels_of[kk + 1])
        for k in cyl:
            y0, y1, x0, x1 = rects[k]
            ii, jj = np.nonzero(pid[y0:y1, x0:x1] == k)
            ii += y0
            jj += x0
            flat = ii * W + jj
            rows = self._apply(coefs[k], flat_depth[flat], self.xs[jj],
                               self.ys[ii])
            n, uv, nx = self._finish(rows, self.specs[k].size)
            out.put(flat, n, self._to_atlas(uv, k), nx, self.specs[k].label)
        return out

    def _to_atlas(self, uv: tuple, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Primitive-local UV in [0,1] -> atlas UV of primitive k's tile (in place, so views
        of larger arrays work)."""
        u, v = uv
        u *= self.tile_scale[k]
        u += self.tile_origin[k, 0]
        v *= self.tile_scale[k]
        v += self.tile_origin[k, 1]
        return u, v

    def _patches(self, uv: np.ndarray, pid: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Sample the patch field at the hits and paint patch classes into ``labels``."""
        if self.patch_class is None:
            return np.full(pid.shape, -1.0, f32)
        size = self.patch_field.shape[0]
        field = cv2.remap(self.patch_field, uv[0] * f32(size) - f32(0.5),
                          uv[1] * f32(size) - f32(0.5), cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
        field[pid < 0] = -1.0
        labels[field > 0] = self.patch_class
        return field
