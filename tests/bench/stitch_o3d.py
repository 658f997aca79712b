#!/usr/bin/env python3
"""stitch_o3d.py - Open3D's standard global registration pipeline: the
reference that bench-stitch compares scanq's builtin stitch with.

    stitch_o3d.py [options] A.ply B.ply [C.ply ...]

Registers each cloud onto the one before it (B onto A, C onto B, ...) with the
pipeline of Open3D's global registration tutorial and its
examples/python/pipelines/registration_ransac.py (0.16):

  voxel_down_sample(v); estimate_normals(KDTreeSearchParamHybrid(2v, 30));
  compute_fpfh_feature(KDTreeSearchParamHybrid(5v, 100));
  registration_ransac_based_on_feature_matching(mutual_filter, 1.5v,
      TransformationEstimationPointToPoint(False), ransac_n=3,
      [CorrespondenceCheckerBasedOnEdgeLength(0.9),
       CorrespondenceCheckerBasedOnDistance(1.5v)],
      RANSACConvergenceCriteria(100000, 0.999));
  registration_icp(source, target, 0.4v, ransac.transformation,
      TransformationEstimationPointToPlane())   (on the full clouds)

Point-to-plane ICP needs target normals, which the tutorial's clouds carry and
ours do not: they are estimated on the full target with the same
KDTreeSearchParamHybrid(2v, 30), inside the timing.

The voxel size v comes from the data unless --voxel is given: the larger of
--nn-mult times the median nearest-neighbour distance of the first cloud (on a
sample of its points) and its bounding-box diagonal / --diag-div. Open3D is
rigid: with clouds of differing scale it still returns a rigid transform.

--prescale s0,s1,... multiplies each cloud's coordinates by its factor when it
is loaded (outside the timing), and the transforms printed are turned back
into the clouds' own frames: given the true relative scale (the factors that
bring every cloud to one scale), the rigid pipeline can place clouds of
differing scale.

Prints one JSON object on stdout: the voxel size, load_s (reading the PLYs),
pipeline_s (everything above, choosing v included; not Python start-up, not
loading), the thread count, and per pair the 4x4 row-major transform taking
the source into the target's frame with RANSAC's and ICP's fitness and inlier
RMSE. Exit status 0, or 1 with a message on stderr.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import open3d as o3d

reg = o3d.pipelines.registration
KNN = o3d.geometry.KDTreeSearchParamHybrid
NN_SAMPLE = 20000


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ply", nargs="+", help="clouds; each is registered onto the previous one")
    ap.add_argument("--voxel", type=float, default=0.0, help="voxel size (0: from the data)")
    ap.add_argument("--nn-mult", type=float, default=5.0)
    ap.add_argument("--diag-div", type=float, default=100.0)
    ap.add_argument("--seed", type=int, default=1, help="Open3D's random seed (RANSAC)")
    ap.add_argument("--mutual", action="store_true", help="RANSAC mutual filter on")
    ap.add_argument("--max-iter", type=int, default=100000)
    ap.add_argument("--confidence", type=float, default=0.999)
    ap.add_argument("--prescale", default="",
                    help="comma-separated factors, one per cloud, applied when loading")
    a = ap.parse_args()
    if len(a.ply) < 2:
        ap.error("need at least two clouds")
    a.scales = [float(v) for v in a.prescale.split(",")] if a.prescale else [1.0] * len(a.ply)
    if len(a.scales) != len(a.ply) or min(a.scales) <= 0:
        ap.error("--prescale needs one positive factor per cloud")
    return a


def pick_voxel(pcd, a):
    if a.voxel > 0:
        return a.voxel
    n = len(pcd.points)
    sample = pcd
    if n > NN_SAMPLE:
        # a uniform subset has a larger spacing: scale back by sqrt(share), as
        # points on a surface are 2-D
        sample = pcd.random_down_sample(NN_SAMPLE / n)
    nn = float(np.median(np.asarray(sample.compute_nearest_neighbor_distance())))
    if n > NN_SAMPLE:
        nn *= np.sqrt(len(sample.points) / n)
    diag = float(np.linalg.norm(pcd.get_max_bound() - pcd.get_min_bound()))
    return max(a.nn_mult * nn, diag / a.diag_div)


def preprocess(pcd, v):
    down = pcd.voxel_down_sample(v)
    down.estimate_normals(KNN(radius=2.0 * v, max_nn=30))
    fpfh = reg.compute_fpfh_feature(down, KNN(radius=5.0 * v, max_nn=100))
    return down, fpfh


def register(src, dst, s_pre, d_pre, v, a):
    dist = 1.5 * v
    ransac = reg.registration_ransac_based_on_feature_matching(
        s_pre[0], d_pre[0], s_pre[1], d_pre[1], a.mutual, dist,
        reg.TransformationEstimationPointToPoint(False), 3,
        [reg.CorrespondenceCheckerBasedOnEdgeLength(0.9),
         reg.CorrespondenceCheckerBasedOnDistance(dist)],
        reg.RANSACConvergenceCriteria(a.max_iter, a.confidence))
    if not dst.has_normals():
        dst.estimate_normals(KNN(radius=2.0 * v, max_nn=30))
    icp = reg.registration_icp(src, dst, 0.4 * v, ransac.transformation,
                               reg.TransformationEstimationPointToPlane())
    return {
        "T": np.asarray(icp.transformation).tolist(),
        "ransac_fitness": ransac.fitness,
        "ransac_rmse": ransac.inlier_rmse,
        "fitness": icp.fitness,
        "rmse": icp.inlier_rmse,
        "down_points": [len(s_pre[0].points), len(d_pre[0].points)],
    }


def main():
    a = parse_args()
    o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)
    o3d.utility.random.seed(a.seed)
    t0 = time.perf_counter()
    clouds = []
    for p in a.ply:
        pcd = o3d.io.read_point_cloud(p)
        if len(pcd.points) == 0:
            print("cannot read '%s': no points" % p, file=sys.stderr)
            return 1
        if a.scales[len(clouds)] != 1.0:
            pcd.scale(a.scales[len(clouds)], center=np.zeros(3))
        clouds.append(pcd)
    t1 = time.perf_counter()
    v = pick_voxel(clouds[0], a)
    pre = [preprocess(c, v) for c in clouds]
    pairs = []
    for i in range(1, len(clouds)):
        r = register(clouds[i], clouds[i - 1], pre[i], pre[i - 1], v, a)
        # back to the clouds' own frames: x_dst = S_dst^-1 T S_src x_src
        T = np.diag([1.0 / a.scales[i - 1]] * 3 + [1.0]) @ np.asarray(r["T"]) @ \
            np.diag([a.scales[i]] * 3 + [1.0])
        r.update({"T": T.tolist(), "src": i, "dst": i - 1})
        pairs.append(r)
    t2 = time.perf_counter()
    json.dump({"voxel": v, "load_s": t1 - t0, "pipeline_s": t2 - t1,
               "threads": len(os.sched_getaffinity(0)), "open3d": o3d.__version__,
               "mutual_filter": a.mutual, "pairs": pairs}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
