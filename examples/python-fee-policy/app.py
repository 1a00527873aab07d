"""A time-of-day, balance-tiered fee strategy for cl-revenue-ops, in Python.

An example of a custom policy an operator might write. It implements the
`fee-strategy` role of `revops:policy` (world `fee-policy` in wit/policy.wit):
the host hands it a batch of channels and it returns one fee per channel, in
the same order.

The rule, per channel:

1. Start from the channel's current fee, kept inside the host's guidance
   (`guidance.floor_ppm` .. `guidance.ceiling_ppm`).
2. Balance tier: when our side holds under 20 % of the capacity, liquidity is
   scarce and forwards out should pay more (x1.25); over 80 %, we have plenty
   and a lower fee attracts forwards that drain it (x0.85).
3. Time of day: during the operator's busy hours (PEAK_HOURS_UTC) charge a
   little more, during quiet hours a little less.
4. Hysteresis: a change under 5 % of the last fee this policy set is not
   worth a gossip update; keep the old fee.

The policy is a pure function of its input, like every policy: the time comes
from the input's `now` (not the machine's clock), and the only state is what
the policy returned last time for the channel, handed back in `state`. The
host clamps whatever this returns into the channel's bounds anyway.
"""

from wit_world import exports
from wit_world.imports import host
from wit_world.imports.types import (
    ChannelFeeInput,
    FeeDecision,
    PolicyMetadata,
    Role,
)

NAME = "python-time-of-day"
VERSION = "0.1.0"

# Hours (UTC, inclusive start, exclusive end) when most payments flow through
# this node, and when it is quiet. Tune to your own forwarding history.
PEAK_HOURS_UTC = range(13, 21)
QUIET_HOURS_UTC = range(0, 6)
PEAK_FACTOR = 1.10
QUIET_FACTOR = 0.90

# Local balance tiers: share of the capacity on our side.
SCARCE_BELOW = 0.20
SCARCE_FACTOR = 1.25
SURPLUS_ABOVE = 0.80
SURPLUS_FACTOR = 0.85

# Changes smaller than this share of the last fee set are not made.
HYSTERESIS = 0.05

# State format: b"last-fee-ppm=<int>". Small, versioned by its prefix.
STATE_PREFIX = b"last-fee-ppm="


class Metadata(exports.Metadata):
    def metadata(self) -> PolicyMetadata:
        return PolicyMetadata(
            name=NAME,
            version=VERSION,
            roles=[Role.FEE_STRATEGY],
            description=(
                "Example Python policy: raises fees when local liquidity is "
                "scarce or during peak hours (UTC), lowers them when it is "
                "plentiful or quiet."
            ),
        )


class FeeStrategy(exports.FeeStrategy):
    def decide_fees(self, inputs: list[ChannelFeeInput]) -> list[FeeDecision]:
        decisions = [decide(channel) for channel in inputs]
        changed = sum(1 for c, d in zip(inputs, decisions) if d.fee_ppm != c.fee_ppm)
        # print() goes to the host log too (as info, capped like host.log);
        # host.log lets you pick the level.
        host.log(
            host.LogLevel.DEBUG,
            f"decided {len(decisions)} channels, {changed} changed",
        )
        return decisions


def decide(channel: ChannelFeeInput) -> FeeDecision:
    floor = channel.guidance.floor_ppm
    ceiling = max(channel.guidance.ceiling_ppm, floor)
    current = clamp(channel.fee_ppm, floor, ceiling)

    # 2. Balance tier.
    share = channel.local_msat / channel.capacity_msat if channel.capacity_msat else 0.0
    if share < SCARCE_BELOW:
        factor, step = SCARCE_FACTOR, "scarce"
        why = f"our side holds {share:.0%} of the capacity (scarce)"
    elif share > SURPLUS_ABOVE:
        factor, step = SURPLUS_FACTOR, "surplus"
        why = f"our side holds {share:.0%} of the capacity (plenty)"
    else:
        factor, step = 1.0, "balanced"
        why = f"our side holds {share:.0%} of the capacity"

    # 3. Time of day, from the input's clock (unix seconds, UTC).
    hour = (channel.now // 3600) % 24
    if hour in PEAK_HOURS_UTC:
        factor *= PEAK_FACTOR
        step += "+peak"
        why += f"; {hour:02d}h UTC is a peak hour"
    elif hour in QUIET_HOURS_UTC:
        factor *= QUIET_FACTOR
        step += "+quiet"
        why += f"; {hour:02d}h UTC is a quiet hour"

    wanted = clamp(round(current * factor), floor, ceiling)

    # 4. Hysteresis against the fee this policy set last time.
    last = last_fee(channel.state)
    if last is not None and abs(wanted - last) < HYSTERESIS * max(last, 1):
        wanted, step = clamp(last, floor, ceiling), "hold"
        why += f"; within {HYSTERESIS:.0%} of the last fee, holding"

    return FeeDecision(
        short_channel_id=channel.short_channel_id,
        fee_ppm=wanted,
        step=step,
        reason=f"{why}: {current} -> {wanted} ppm",
        state=STATE_PREFIX + str(wanted).encode(),
    )


def last_fee(state: bytes | None) -> int | None:
    """The fee this policy set last time, or None (first call, or state
    written by another policy or version)."""
    if state is None or not state.startswith(STATE_PREFIX):
        return None
    try:
        return int(state[len(STATE_PREFIX):])
    except ValueError:
        return None


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(value, high))
