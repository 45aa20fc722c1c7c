"""One MoE layer: a router (`routers`) picks experts for each point, the experts (`experts`,
`heterogeneous`) run on their points, their outputs combine (`combination`); balancing (`balance`) adds
its losses or bias. `reference` is the readable definition of the operations, `fast` the kernels the
product trains with, tested equal to it; `kernels` is the set a layer is given."""
