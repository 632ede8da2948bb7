{#
    Fails for any event whose cost contradicts its price status: priced events have both
    costs, unpriced events have neither (never a 0 that looks like a price).
#}
select
    event_id,
    price_status,
    list_cost_usd,
    cost_usd
from {{ ref('fct_usage_events') }}
where
    (price_status = 'priced' and (list_cost_usd is null or cost_usd is null))
    or (price_status = 'unpriced' and (list_cost_usd is not null or cost_usd is not null))
