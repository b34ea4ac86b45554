"""Screening driver: python screen.py NAME TASK NET 'net_kw' 'est_kw' [flags]"""
import json, sys, time, ast
import numpy as np
import torch
torch.set_num_threads(1)
from sklearn.preprocessing import FunctionTransformer
from sklearn_sbi import AmortizedPosterior, Simulations
from sklearn_sbi.benchmarks import get_task, run_benchmark
from sklearn_sbi.networks import FlowMatching, ConsistencyModel, CouplingFlow, DeepSet, SetTransformer
from sklearn_sbi.pipeline import make_posterior_pipeline

name, task_name, net = sys.argv[1:4]
net_kw = ast.literal_eval(sys.argv[4]) if len(sys.argv) > 4 else {}
est_kw = ast.literal_eval(sys.argv[5]) if len(sys.argv) > 5 else {}
flags = sys.argv[6:]
task = get_task(task_name)
nets = {"fm": FlowMatching, "cm": ConsistencyModel}
inet = nets[net](**net_kw) if net in nets else CouplingFlow(transform=net, **net_kw)
summary = task.make_summary_net()
if "deepset" in flags:
    summary = DeepSet()
if "mlp" in flags:
    from sklearn_sbi.networks import MLP as SMLP
    summary = SMLP()
if "settf" in flags:
    summary = SetTransformer()
est = AmortizedPosterior(inference_net=inet, summary_net=summary, random_state=0, **est_kw)
if "set" in flags:
    est = make_posterior_pipeline(FunctionTransformer(lambda X: Simulations(x=np.asarray(X).reshape(len(X), 4, 2))), est)
nobs = 3
for f in flags:
    if f.startswith("nobs="): nobs = int(f[5:])
nsim = 10_000
for f in flags:
    if f.startswith("nsim="): nsim = int(f[5:])
ns = 5000 if task.n_params < 8 else 2000
for f in flags:
    if f.startswith("ns="): ns = int(f[3:])
t0 = time.time()
res = run_benchmark(task, est, nsim, n_observations=nobs, n_posterior_samples=ns, random_state=0)
res.update(name=name, net_kw=repr(net_kw), est_kw=repr(est_kw), flags=flags, wall=time.time() - t0)
json.dump(res, open(f"/tmp/scr/{name}.json", "w"), indent=1, default=str)
print(name, "C2ST", round(res["c2st_mean"], 4), [round(c, 3) for c in res["c2st"]], "epochs", res["n_epochs"], "train s", round(res["training_seconds"], 1), "wall", round(time.time() - t0))
