"""Training losses: each registered in `LOSSES` and computed from one `LossInputs`."""
