"""Minibatch training loop, early stopping and optional compilation."""

from dagmm.training.compile import maybe_compile, should_compile
from dagmm.training.loop import StepOutput, TrainingLoop

__all__ = ["StepOutput", "TrainingLoop", "maybe_compile", "should_compile"]
