#!/bin/bash
# The study runs behind benchmarks/results/study.md, one line per run (each run
# evaluates one training at several epoch counts). Every line of the logs
# records its settings in "variant" and "scaler"; "tag" names the group.
# Run from the repository root, one thread (the machine had 2 shared cores):
#   OMP_NUM_THREADS=1 bash benchmarks/results/study/commands.sh
# Variants start from the paper's settings (presets.PAPER_PRESETS). Some runs
# were stopped early to save time; the logs hold what finished.
set -e
: "${DAGMM_DATA_HOME:?set DAGMM_DATA_HOME to the folder holding the data files}"
export PYTHONPATH=src DAGMM_DATA_HOME
S=".venv/bin/python benchmarks/paper_study.py"
D=benchmarks/results/study

# --- KDDCUP (train: ~198,000 rows of attack traffic, 118 features, min-max) ---
L="--log $D/kddcup.jsonl"
$S kddcup --checkpoints 1,2,3,5 $L --tag paper
$S kddcup --checkpoints 10,20,50,100 $L --tag paper
$S kddcup --seeds 1,2,3 --checkpoints 2,3,5,10,20 $L --tag paper
$S kddcup reconstruction=mean --checkpoints 1,2,3,5,10,20,30 $L --tag mean
$S kddcup reconstruction=mean --checkpoints 1,2,3,5 --seeds 1,2,3 $L --tag mean
$S kddcup scaler=standard lambda2=1e-4 --checkpoints 1,2,3,5,10,20,30 $L --tag tf-ref
$S kddcup scaler=standard lambda2=1e-4 --checkpoints 5,10,20 --seeds 1,2 $L --tag tf-ref
$S kddcup reconstruction=mean lambda2=1e-4 --checkpoints 1,2,3,5,10,20,30 $L --tag mean-l2small
$S kddcup scaler=standard --checkpoints 1,2,3,5,10,20,30 $L --tag standard
$S kddcup learning_rate=1e-3 lambda2=1e-4 --checkpoints 2,5,10,20 --seeds 0,1,2 $L --tag lr1e-3-l2-1e-4
$S kddcup lambda2=1e-4 --checkpoints 5,10,20 --seeds 0,1,2 $L --tag l2-1e-4
$S kddcup minibatch_size=256 --checkpoints 2,5,10 --seeds 0,1,2,3 $L --tag b256
$S kddcup lambda1=1.0 --checkpoints 2,5,10 --seeds 1,2,3,0 $L --tag l1-1
$S kddcup lambda1=0.5 --checkpoints 2,5,10 --seeds 1,2,3,0 $L --tag l1-0.5
$S kddcup pretrain_epochs=3 reconstruction=mean --checkpoints 1,2,3 --seeds 0,1,2,3 $L --tag pre3-mean
$S kddcup pretrain_epochs=3 --checkpoints 1,2,5 --seeds 0,1,2,3 $L --tag pre3-paper

# --- KDDCUP-Rev (train: ~48,600 rows of normal traffic) ---
L="--log $D/kddcup-rev.jsonl"
$S kddcup-rev --seeds 0,1,2 --checkpoints 2,5,10,20,40 $L --tag paper
C="--seeds 0,1,2 --checkpoints 2,5,10,20"
$S kddcup-rev lambda1=0.0 lambda2=0.0 $C $L --tag ae-only
$S kddcup-rev lambda2=1e-4 $C $L --tag l2-1e-4
$S kddcup-rev lambda1=0.01 lambda2=5e-5 $C $L --tag l1-1e-2-l2-5e-5
$S kddcup-rev reconstruction=mean $C $L --tag mean
C="--seeds 0,1,2 --checkpoints 2,5,10,20,40"
$S kddcup-rev learning_rate=1e-3 $C $L --tag lr1e-3
$S kddcup-rev learning_rate=1e-3 lambda2=1e-4 $C $L --tag lr1e-3-l2-1e-4
$S kddcup-rev "comp_hiddens=(60,30,10,3)" $C $L --tag latent3
$S kddcup-rev scaler=standard lambda2=1e-4 $C $L --tag tf-ref
$S kddcup-rev scaler=standard lambda2=1e-4 --checkpoints 10,20,30 --seeds 3,4,5 $L --tag tf-ref
$S kddcup-rev scaler=standard lambda2=1e-4 --checkpoints 30,40 --seeds 3,4,5,6,7 $L --tag tf-ref
$S kddcup-rev scaler=standard lambda2=1e-4 learning_rate=1e-3 --checkpoints 2,5,10,20 --seeds 0,1,2 $L --tag tf-ref-lr1e-3
$S kddcup-rev scaler=standard --checkpoints 5,10,20 --seeds 0,1,2 $L --tag standard
C="--seeds 0,1,2 --checkpoints 5,10,20,40"
$S kddcup-rev learning_rate=1e-3 lambda2=1e-5 $C $L --tag lr1e-3-l2-1e-5
$S kddcup-rev learning_rate=1e-3 lambda2=1e-4 lambda1=0.01 $C $L --tag lr1e-3-l1-1e-2-l2-1e-4

# --- Thyroid (train: ~1,840 rows, 6 features) ---
L="--log $D/thyroid.jsonl"
C="--checkpoints 20,100,300,1000,2000,4000"
$S thyroid $C $L --tag paper-standard
$S thyroid scaler=minmax $C $L --tag paper-minmax
$S thyroid reconstruction=mean $C $L --tag mean-standard
$S thyroid reconstruction=mean scaler=minmax $C $L --tag mean-minmax
C="--seeds 0,1,2 --checkpoints 5,20,50,100,200"
$S thyroid scaler=minmax $C $L --tag g2-minmax
$S thyroid scaler=none $C $L --tag g2-none
$S thyroid scaler=minmax lambda2=1e-4 $C $L --tag g2-minmax-l2e-4
$S thyroid scaler=minmax lambda2=0.0 $C $L --tag g2-minmax-l2-0
$S thyroid scaler=minmax "comp_hiddens=(12,4,2)" $C $L --tag g2-minmax-latent2
$S thyroid scaler=minmax "est_hiddens=(10,4)" $C $L --tag g2-minmax-K4
$S thyroid scaler=minmax learning_rate=1e-3 $C $L --tag g2-minmax-lr1e-3
$S thyroid scaler=standard lambda2=1e-4 $C $L --tag g2-standard-l2e-4
C="--seeds 0,1,2 --checkpoints 20,50,100,200,500,1000"
$S thyroid scaler=minmax lambda2=1e-4 learning_rate=1e-3 $C $L --tag g3-minmax-l2e-4-lr1e-3
$S thyroid scaler=minmax lambda2=0.0 learning_rate=1e-3 $C $L --tag g3-minmax-l2-0-lr1e-3
$S thyroid scaler=minmax learning_rate=1e-3 minibatch_size=256 $C $L --tag g3-minmax-lr1e-3-b256
B="scaler=minmax learning_rate=1e-3"
C="--seeds 0,1,2 --checkpoints 50,100,200,500,1000"
$S thyroid $B lambda1=0.01 lambda2=5e-4 $C $L --tag g4-l1e-2-l2-5e-4
$S thyroid $B lambda1=0.01 lambda2=5e-5 $C $L --tag g4-l1e-2-l2-5e-5
$S thyroid $B lambda1=0.001 lambda2=5e-5 $C $L --tag g4-l1e-3-l2-5e-5
$S thyroid $B lambda1=0.001 lambda2=5e-6 $C $L --tag g4-l1e-3-l2-5e-6
$S thyroid $B lambda1=0.0 lambda2=0.0 $C $L --tag g4-ae-only
C="--seeds 0,1,2 --checkpoints 500,1000,2000"
$S thyroid $B lambda1=0.01 lambda2=5e-5 $C $L --tag g5-l1e-2-l2-5e-5
$S thyroid $B lambda1=0.01 lambda2=5e-5 "comp_hiddens=(12,4,2)" $C $L --tag g5-l1e-2-l2-5e-5-latent2
$S thyroid $B lambda1=0.001 lambda2=5e-6 "comp_hiddens=(12,4,2)" $C $L --tag g5-l1e-3-l2-5e-6-latent2
$S thyroid $B lambda1=0.01 lambda2=5e-5 "est_hiddens=(10,4)" $C $L --tag g5-l1e-2-l2-5e-5-K4
C="--seeds 3,4,5,6 --checkpoints 500,1000,1500"
$S thyroid $B lambda1=0.001 lambda2=5e-6 $C $L --tag g4-l1e-3-l2-5e-6
$S thyroid $B lambda1=0.001 lambda2=5e-6 "comp_hiddens=(12,4,2)" $C $L --tag g5-l1e-3-l2-5e-6-latent2
$S thyroid $B lambda1=0.01 lambda2=5e-5 $C $L --tag g5-l1e-2-l2-5e-5
$S thyroid $B lambda1=0.001 lambda2=5e-6 --seeds 7,8,9,10,11 --checkpoints 1000,1500,2000,3000 $L --tag g4-l1e-3-l2-5e-6

# --- What the energy is built from (--diagnose) ---
L="--log $D/diagnose.jsonl --diagnose"
$S thyroid --seeds 0,1 --checkpoints 1500 scaler=minmax learning_rate=1e-3 lambda1=1e-3 lambda2=5e-6 $L --tag diag-tuned
$S thyroid --seeds 0,1 --checkpoints 100,1000 scaler=minmax $L --tag diag-paper-minmax
$S thyroid --seeds 0,1 --checkpoints 1000 scaler=minmax learning_rate=1e-3 lambda2=0.0 $L --tag diag-l2-0
$S kddcup-rev --seeds 0 --checkpoints 5 lambda1=0.0 lambda2=0.0 $L --tag diag-ae-only
$S kddcup-rev --seeds 0 --checkpoints 30 scaler=standard lambda2=1e-4 $L --tag diag-preset
$S kddcup --seeds 3 --checkpoints 10 $L --tag diag-paper
$S kddcup --seeds 6 --checkpoints 1,2,3,4 pretrain_epochs=3 reconstruction=mean $L --tag diag-preset

# --- Second round, KDDCUP: initialisation, restarts, K, learning rate (study.md 2b) ---
L="--log $D/kddcup-restarts.jsonl --threads 1"
P="pretrain_epochs=3 reconstruction=\"mean\""
for rs in 100 101 102; do $S kddcup $P random_state=$rs --seeds 6 --checkpoints 2 $L --tag rs$rs; done
$S kddcup $P random_state=6 --seeds 0,1 --checkpoints 2 $L --tag rs6
C="--seeds 0,1,2,3,4,5,6,7,8,9 --checkpoints 1,2,3,4"
$S kddcup $P $C $L --tag base
$S kddcup $P "est_hiddens=(10,2)" $C $L --tag k2
$S kddcup $P "est_hiddens=(10,8)" $C $L --tag k8
$S kddcup $P minibatch_size=4096 $C $L --tag bs4096
$S kddcup pretrain_epochs=10 reconstruction='"mean"' $C $L --tag pre10
$S kddcup $P lambda1=0.01 $C $L --tag l1_001
$S kddcup $P n_init=3 --seeds 0,1,2,3,4,5,6,7,8,9 --checkpoints 2,3 $L --tag n3
$S kddcup $P n_init=3 "est_hiddens=(10,8)" --seeds 0,1,2,3,4,5,6,7,8,9 --checkpoints 2,3 $L --tag n3k8
$S kddcup $P n_init=3 "est_hiddens=(10,8)" --seeds 7,8,9 --checkpoints 2,3,4 $L --tag n3k8b
$S kddcup $P n_init=3 "est_hiddens=(10,8)" learning_rate=5e-5 --seeds 0,1,2,3,4,5,6,7,8,9 --checkpoints 3,4,6 $L --tag n3k8lr5
S10="--seeds 10,11,12,13,14,15,16,17,18,19"
$S kddcup $P n_init=3 "est_hiddens=(10,8)" $S10 --checkpoints 2,3,4 $L --tag n3k8
$S kddcup $P n_init=3 $S10 --checkpoints 1,2 $L --tag n3
$S kddcup $P n_init=3 "est_hiddens=(10,8)" --seeds 11 --checkpoints 3 --diagnose $L --tag diag
S20="--seeds 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19"
$S kddcup $P n_init=3 lambda2=1e-3 $S20 --checkpoints 1,2,3 $L --tag n3l2e-3
$S kddcup $P n_init=3 lambda1=0.2 $S20 --checkpoints 1,2,3 $L --tag n3l1-0.2  # stopped after 8 seeds
# kddcup-inits.jsonl: splits 0-1, model seeds 0-9, the previous preset, pretraining losses per epoch
# (a short script over dagmm.benchmark.protocol; the same errors are now in history_["pretrain_init_errors"]).

# --- Second round, Thyroid (study.md 2c) ---
L="--log $D/thyroid-2.jsonl --threads 1"
T="normalize=\"minmax\" learning_rate=1e-3 lambda1=1e-3 lambda2=5e-6"
C="--seeds 0,1,2,3,4,5 --checkpoints 500,1000,1500"
$S thyroid $T $C $L --tag none
$S thyroid $T "reconstruction_features=('relative','cosine','euclidean')" $C $L --tag dist
$S thyroid $T "comp_hiddens=(12,4,2)" $C $L --tag lat2
$S thyroid $T "comp_hiddens=(12,4,3)" $C $L --tag lat3
$S thyroid $T "comp_hiddens=(12,4)" $C $L --tag lat4
$S thyroid $T "est_hiddens=(10,4)" $C $L --tag k4
$S thyroid $T pretrain_epochs=300 n_init=3 $C $L --tag pre300n3
C="--seeds 0,1,2,3,4,5 --checkpoints 1000,1500"
$S thyroid $T "reconstruction_features=('euclidean','cosine')" $C $L --tag euc-cos
$S thyroid $T "reconstruction_features=('relative',)" $C $L --tag rel-only
$S thyroid $T "reconstruction_features=('relative','euclidean')" $C $L --tag rel-euc
C="--seeds 0,1,2,3,4,5,6,7,8,9 --checkpoints 1000,1500,2000,3000"
$S thyroid normalize='"minmax"' learning_rate=5e-4 lambda1=1e-3 lambda2=5e-6 $C $L --tag lr5e-4
$S thyroid $T minibatch_size=4096 $C $L --tag fullbatch
$S thyroid normalize=False "comp_hiddens=(8,2)" "est_hiddens=(10,4)" minibatch_size=128 learning_rate=1e-3 \
    lambda1=0.01 lambda2=1e-5 "reconstruction_features=('relative','cosine','euclidean')" \
    --seeds 0,1,2,3,4,5 --checkpoints 50,100,200,400 $L --tag wf

# --- Third round, KDDCUP: fewer, larger steps (study.md 2b; the preset) ---
L="--log $D/kddcup-restarts.jsonl --threads 1"
$S kddcup $P n_init=3 learning_rate=5e-5 $S20 --checkpoints 2,3,4 $L --tag n3lr5
$S kddcup $P n_init=3 minibatch_size=2048 $S20 --checkpoints 2,3,4 $L --tag n3bs2048

# --- Third round, Thyroid: the energy beside its parts (study.md 2d) ---
L="--log $D/thyroid-3.jsonl --seeds 0,1,2,3,4,5,6,7,8,9"
E=".venv/bin/python benchmarks/energy_parts.py thyroid"
$E $L --tag preset
$E "comp_hiddens=(12,4)" $L --tag latent4
$E "comp_hiddens=(12,6)" $L --tag latent6
$E "reconstruction_features=('cosine',)" $L --tag cosine
$E --inputs quantile-normal $L --tag quantile-normal
$E --inputs quantile-uniform $L --tag quantile-uniform
$E n_restarts=3 $L --tag restarts3
$E n_restarts=3 --log $D/thyroid-3.jsonl --seeds 10,11,12,13,14,15,16,17,18,19 --tag restarts3

# --- Contaminated training, KDDCUP: which runs fail, restarts (study.md 6) ---
L="--log $D/kddcup-contaminated-restarts.jsonl"
R=".venv/bin/python benchmarks/restarts_study.py"
$R 0.03 --splits 0,1,2,3,4,5,6,7,8,9 --offsets 0,100,200 n_init=1 $L
$R 0.05 --splits 0,1,2,3,4,5,6,7,8,9 --offsets 0,100,200 n_init=1 $L
$R 0 --splits 10,11,12,13,14,15,16,17,18,19 --offsets 0,100,200 n_init=1 $L
$R 0.03 --splits 0,1,2,3,4,5,6,7,8,9 n_restarts=3 $L
$R 0 --splits 10,11,12,13,14,15,16,17,18,19 n_restarts=3 $L
$R summary $D/kddcup-contaminated-restarts.jsonl

# --- The workflow's --restarts with unlabelled frauds in training (study.md 6) ---
W=".venv/bin/python benchmarks/workflow_restarts.py --draws 0,1,2,3,4,5"
$W --restarts 1 >> $D/workflow-restarts.jsonl
$W --restarts 3 >> $D/workflow-restarts.jsonl

# --- Arrhythmia (train: ~190 normal rows, 274 standardised features), seeds 0-4 ---
# g1/g2 ran before the protocol clipped Arrhythmia's inputs (clip=None now reproduces them);
# g3/g4 with clip=3, the protocol's value since.
L="--log $D/arrhythmia.jsonl"
C="--seeds 0,1,2,3,4 --checkpoints 20,50,100,300,1000"
E='reconstruction_features=("euclidean","cosine")'
$S arrhythmia clip=None learning_rate=1e-3 --checkpoints 50,100,300,1000 --seeds 0,1,2,3,4 $L --tag g1-preset --diagnose
$S arrhythmia clip=None learning_rate=1e-3 lambda1=0.0 lambda2=0.0 "$E" $C $L --tag g2-ae-only-euclid --diagnose
$S arrhythmia clip=None learning_rate=1e-3 lambda1=1e-3 lambda2=5e-6 "$E" $C $L --tag g2-l1e-3-l2-5e-6-euclid --diagnose
$S arrhythmia clip=None learning_rate=1e-3 lambda1=1e-3 lambda2=5e-6 normalize=minmax $C $L --tag g2-minmax-l1e-3-l2-5e-6 --diagnose
C="--seeds 0,1,2,3,4 --checkpoints 20,50,100,300"
$S arrhythmia clip=3 learning_rate=1e-3 lambda1=1e-3 lambda2=5e-6 "$E" $C $L --tag g3-clip3-l1e-3-l2-5e-6-euclid --diagnose
C="--seeds 0,1,2,3,4 --checkpoints 50,100,200"
B="clip=3 learning_rate=1e-3 lambda1=1e-3 lambda2=5e-6"
$S arrhythmia $B 'reconstruction_features=("euclidean",)' 'comp_hiddens=(10,1)' $C $L --tag g4-clip3-euclid-only-latent1 --diagnose
$S arrhythmia $B 'reconstruction_features=("euclidean","cosine")' 'comp_hiddens=(10,1)' $C $L --tag g4-clip3-euclid-cos-latent1 --diagnose
$S arrhythmia $B 'reconstruction_features=("euclidean",)' $C $L --tag g4-clip3-euclid-only --diagnose
# arrhythmia-before.jsonl: the DAGMM records of
#   dagmm benchmark paper --datasets arrhythmia --models dagmm --seeds 20 --out runs/arr-preset
# with the previous preset (paper weights, lr 1e-3, 1,000 epochs; inputs not clipped).
