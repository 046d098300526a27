//! Comments and ratings.
