"""Measuring a model: evaluation on points and on the map grid (`probe`), the metrics and the glossary
that defines them, experts aligned across runs, hidden directions, and the collapse watch in words."""
