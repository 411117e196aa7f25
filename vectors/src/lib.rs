//! Recorded BERT activations.
