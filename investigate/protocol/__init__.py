"""Protocols are data: the model a TOML protocol becomes, its parsing and validation, answer
values, scores, rotation rules, and the versions a workspace keeps of the protocols its visits
were judged by. Judging a visit needs nothing above this package."""
