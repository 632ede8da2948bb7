{#
    Warns (does not fail) when usage of a model the catalog does not know was built: its cost
    is NULL until the catalog knows it. Details in restricted.rpt_unpriced_usage.
#}
{{ config(severity='warn') }}

select
    provider,
    count(*) as unpriced_requests
from {{ ref('fct_usage_events') }}
where price_status = 'unpriced'
group by provider
