"""The glossary: every quantity the page names, in one sentence with the formula `moe_core.measure.metrics`
computes and where it comes from.

Notation, as in `moe_core.measure.metrics`: on the test probe of N points, c_e is the number of slots routed
to expert e (before capacity drops), f_e = c_e / sum_j c_j its load share, E the experts, h(x) the
router's logits, n_ec the points of latent cluster c that expert e serves. `find` maps a chart's
label ("CV² of load", "dead") to its term.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    key: str
    name: str
    sentence: str
    formula: str  # LaTeX, for st.latex
    citation: str
    aliases: tuple[str, ...] = ()  # other names the page gives it (chart legends, axis titles)
    low: float | None = None  # the range its values can take; "E" stands for the run's expert count
    high: float | str | None = None
    better: str = ""  # "higher" or "lower" where one direction is the aim; "" where it depends

    def bounds(self, n_experts: int | None = None) -> tuple[float, float]:
        """The range as numbers (unbounded sides infinite; "E" unbounded where the count is unknown)."""
        high = self.high
        if high == "E":
            high = n_experts
        return (-math.inf if self.low is None else self.low, math.inf if high is None else float(high))


_SHARE = r"f_e = \frac{c_e}{\sum_j c_j}"

TERMS: tuple[Term, ...] = (
    Term(
        "load_share", "Load share",
        "Each expert's fraction of the routed slots; 1/E for every expert is perfect balance.",
        _SHARE, "Fedus, Zoph & Shazeer 2021 (Switch Transformer), f_i of eq. 4.",
        ("share of routed slots",),
        low=0, high=1,
    ),
    Term(
        "load_entropy", "Load entropy",
        "How evenly the load is spread: 1 when every expert gets the same share, 0 when one takes everything.",
        r"\frac{H(f)}{\log E}, \quad H(f) = -\sum_e f_e \log f_e",
        "Shannon 1948 entropy, divided by its maximum log E.",
        ("load entropy / log E", "usage entropy"),
        low=0, high=1, better="higher",
    ),
    Term(
        "effective_experts", "Effective experts",
        "How many equally used experts would spread the load as evenly as the real ones do.",
        r"\exp H(f) = \exp\Big(-\sum_e f_e \log f_e\Big)",
        "Hill 1973 (Ecology 54:427): the exponential of entropy as an effective number.",
        low=1, high="E", better="higher",
    ),
    Term(
        "dead_experts", "Dead experts",
        "Experts that get under 1% of their fair share of the load; with more experts than clusters some "
        "are idle even when routing is right.",
        r"\#\{e : f_e < 0.01 / E\}",
        "This app's threshold: 1% of the fair share 1/E.",
        ("dead",),
        low=0, high="E", better="lower",
    ),
    Term(
        "experts_per_point", "Experts per point",
        "How many experts each point reaches on average after capacity: k for top-k, varying for top-p.",
        r"\frac{1}{N} \sum_x \#\{\text{kept slots of } x\}",
        "Shazeer et al. 2017 (top-k); Huang et al. 2024 (top-p, a varying number).",
        ("per point",),
        low=0, high="E",
    ),
    Term(
        "load_cv2", "CV²",
        "The squared coefficient of variation of the load: 0 balanced, E − 1 with all on one expert.",
        r"\mathrm{CV}^2 = \frac{\frac{1}{E}\sum_e (c_e - \bar c)^2}{\bar c^{\,2} + 10^{-10}},"
        r" \quad \bar c = \frac{1}{E}\sum_e c_e",
        "Shazeer et al. 2017 (arXiv 1701.06538), importance and load losses; population variance as in T2T.",
        ("CV² of load",),
        low=0, better="lower",
    ),
    Term(
        "max_vio", "MaxVio",
        "How far the busiest expert is above the mean load, as a fraction of it: 0 balanced, E − 1 collapsed.",
        r"\mathrm{MaxVio} = \frac{\max_e c_e - \bar c}{\bar c}",
        "Wang et al. 2024 (arXiv 2408.15664), auxiliary-loss-free load balancing.",
        low=0, better="lower",
    ),
    Term(
        "flip_rate", "Flips",
        "The share of probe points whose first-choice expert changed since the last snapshot: routing "
        "still moving.",
        r"\frac{1}{N} \sum_x \mathbf{1}\big[e_1^{\,\text{now}}(x) \neq e_1^{\,\text{before}}(x)\big]",
        "After StableMoE's routing fluctuation (Dai et al. 2022, ACL).",
        ("flips", "flip rate"),
        low=0, high=1,
    ),
    Term(
        "drop_rate", "Drop rate",
        "The share of routed slots that a full expert (its capacity reached) turned away; a dropped point "
        "gets no output from that expert.",
        r"\frac{\#\{\text{slots routed but not kept}\}}{\#\{\text{slots routed}\}}",
        "Fedus, Zoph & Shazeer 2021 (Switch Transformer), expert capacity.",
        ("drops",),
        low=0, high=1, better="lower",
    ),
    Term(
        "balance_loss", "Balance loss",
        "The balance strategy's loss on the probe; for the default Switch loss 1 is perfect balance and E "
        "is everything on one expert (other strategies report their own, or none).",
        r"L_{\text{bal}} = E \sum_e f_e P_e, \quad P_e = \frac{1}{N}\sum_x p_e(x)",
        "Fedus, Zoph & Shazeer 2021 (Switch Transformer), eq. 4.",
        low=0,
    ),
    Term(
        "router_z", "Router z",
        "The mean squared log-sum-exp of the router's logits: large logits make the router unstable, "
        "and the z-loss keeps them small.",
        r"z = \frac{1}{N} \sum_x \Big(\log \sum_e e^{h_e(x)}\Big)^2",
        "Zoph et al. 2022 (ST-MoE, arXiv 2202.08906), eq. 5.",
        low=0, better="lower",
    ),
    Term(
        "gate_noise", "Gate noise",
        "The noise scale on the router while training, as set or scheduled now: exploration against collapse.",
        r"\tilde h_e(x) = h_e(x) + \sigma \, \varepsilon_e, \quad \varepsilon_e \sim \mathcal{N}(0, 1)",
        "Shazeer et al. 2017, noisy top-k gating (the Gaussian kind; uniform and jitter kinds also exist).",
        low=0,
    ),
    Term(
        "balance_weight", "Balance weight",
        "The weight of the balance loss in the training loss, as set or scheduled now.",
        r"L = L_{\text{task}} + \lambda \, L_{\text{bal}}",
        "Fedus, Zoph & Shazeer 2021 (Switch Transformer), α of eq. 4.",
        low=0,
    ),
    Term(
        "cluster_nmi", "NMI",
        "How much knowing a point's expert tells about its latent cluster: 1 when experts and clusters "
        "match one to one, 0 when routing ignores the clusters.",
        r"\mathrm{NMI} = \frac{I(\text{expert}; \text{cluster})}{\sqrt{H(\text{expert})\, H(\text{cluster})}}",
        "Strehl & Ghosh 2002 (JMLR 3:583), cluster ensembles; scikit-learn's geometric mean.",
        ("NMI(expert; cluster)", "NMI (expert; cluster)"),
        low=0, high=1, better="higher",
    ),
    Term(
        "purity", "Purity",
        "The share of points that belong to their expert's most common cluster: 1 when every expert "
        "serves one cluster.",
        r"\text{purity} = \frac{1}{N} \sum_e \max_c n_{ec}",
        "Manning, Raghavan & Schütze 2008, Introduction to Information Retrieval, section 16.3.",
        low=0, high=1, better="higher",
    ),
    Term(
        "dispatch_entropy", "Dispatch entropy",
        "The mean entropy of the clusters each expert serves, weighted by its points: 0 when each expert "
        "sees one cluster, log C when none specialises.",
        r"\sum_e \frac{n_e}{N} \Big(-\sum_c \frac{n_{ec}}{n_e} \ln \frac{n_{ec}}{n_e}\Big), \quad n_e = \sum_c n_{ec}",
        "Chen, Deng, Wu, Gu & Li 2022 (NeurIPS, arXiv 2208.02813).",
        ("dispatch entropy (nats)",),
        low=0, better="lower",
    ),
    Term(
        "expert_similarity", "Likeness",
        "How alike the experts' outputs are on the same points: 0 when all differ, 1 when all agree; a "
        "diversity penalty pushes it down.",
        r"\frac{1}{E(E-1)} \sum_{e \neq e'} \cos^2(o_e, o_{e'})",
        "This app's measure, with o_e expert e's outputs on up to 64 probe points as one vector.",
        ("experts' likeness", "likeness"),
        low=0, high=1,
    ),
    Term(
        "train_loss", "Train loss",
        "The task loss on training points: cross-entropy for classes, mean squared error for numbers.",
        r"\frac{1}{N} \sum_x \ell(\hat y(x), y(x))",
        "Goodfellow, Bengio & Courville 2016, Deep Learning, section 6.2.",
        low=0, better="lower",
    ),
    Term(
        "test_loss", "Test loss",
        "The task loss on held-out points, the same measure as the train loss.",
        r"\frac{1}{N_{\text{test}}} \sum_x \ell(\hat y(x), y(x))",
        "Goodfellow, Bengio & Courville 2016, Deep Learning, section 5.2.",
        low=0, better="lower",
    ),
    Term(
        "test_accuracy", "Test accuracy",
        "The share of held-out points whose most probable class is the right one (classification only).",
        r"\frac{1}{N_{\text{test}}} \sum_x [\arg\max_c \hat p_c(x) = y(x)]",
        "Goodfellow, Bengio & Courville 2016, Deep Learning, section 5.1.2.",
        low=0, high=1, better="higher",
    ),
    Term(
        "unrouted_rate", "Unrouted",
        "The share of points that reached no expert: every slot dropped by capacity, or no expert chose them.",
        r"\frac{1}{N} \#\{x : \text{no kept slot}\}",
        "Zhou et al. 2022 (expert choice, arXiv 2202.09368): points no expert picks.",
        ("share of points no expert took",),
        low=0, high=1, better="lower",
    ),
    Term(
        "expert_flops", "Expert multiply-adds",
        "The multiply-adds a point costs in the experts it reached, shared experts included, on average.",
        r"\frac{1}{N} \sum_x \sum_{e \in S(x)} \mathrm{MACs}_e",
        "This app's count: each expert's weight matrices, times the experts a point reached.",
        ("expert multiply-adds per point",),
        low=0, better="lower",
    ),
    Term(
        "confidence", "Confidence",
        "The router's mean probability for its first choice: 1/E for an undecided router, 1 for a certain one.",
        r"\frac{1}{N} \sum_x \max_e p_e(x)",
        "This app's measure of the gate's softmax (Shazeer et al. 2017).",
        low=0, high=1,
    ),
    Term(
        "margin", "Margin",
        "The mean gap between the router's first and second probabilities: 0 when it hesitates.",
        r"\frac{1}{N} \sum_x \big(p_{(1)}(x) - p_{(2)}(x)\big)",
        "This app's measure of the gate's softmax (Shazeer et al. 2017).",
        low=0, high=1,
    ),
    Term(
        "local_alignment", "Local alignment",
        "How well the experts found the clusters' directions: per cluster the best neuron's |cos|, averaged.",
        r"\frac{1}{K} \sum_c \max_{e,j} |\cos(w_{ej}, w_c)|",
        "Kawata et al. 2025 (arXiv 2506.01656), the local directions of the latent cluster model.",
        ("alignment with the clusters' directions",),
        low=0, high=1, better="higher",
    ),
    Term(
        "global_alignment", "Global alignment",
        "How well any neuron found the task's global direction: the best |cos| over all neurons.",
        r"\max_{e,j} |\cos(w_{ej}, w_g)|",
        "Kawata et al. 2025 (arXiv 2506.01656), the global direction w_g.",
        ("alignment with the global direction",),
        low=0, high=1,
    ),
    Term(
        "router_alignment", "Router alignment",
        "How well a linear gate points at the cluster means: per cluster the best expert row's |cos|, averaged.",
        r"\frac{1}{K} \sum_c \max_e |\cos(\theta_e, v_c)|",
        "Kawata et al. 2025 (arXiv 2506.01656), the router's alignment with the cluster signals.",
        low=0, high=1, better="higher",
    ),
)  # fmt: skip

GLOSSARY: dict[str, Term] = {term.key: term for term in TERMS}


def find(label: str) -> Term | None:
    """The term a chart's label or the page's name for it stands for (case and spaces aside)."""
    wanted = " ".join(label.split()).casefold()
    return next(
        (term for term in TERMS if wanted in {n.casefold() for n in (term.key, term.name, *term.aliases)}), None
    )
