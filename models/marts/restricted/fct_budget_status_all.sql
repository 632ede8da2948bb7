{#-
    Every budget owner × period: spend to date, a month-end (period-end) forecast, the highest
    threshold crossed and when, and a status. As of the last day with usage. The forecast adds,
    for each remaining day, the owner's average spend on that weekday over the 28 days to date
    (zero days included), so a weekend ahead is forecast as a weekend.
-#}
with

budgets as (
    select * from {{ ref('budgets') }}
),

spend as (
    select * from {{ ref('fct_owner_spend_daily') }}
),

-- who was active where and when: only counted (distinct people per owner), so one row each
events as (
    select distinct
        usage_date,
        team_id,
        cost_center,
        user_email
    from {{ ref('fct_person_usage_daily') }}
),

as_of as (
    select
        min(usage_date) as data_first,
        max(usage_date) as data_as_of
    from spend
),

periods as (
    select
        budgets.*,
        greatest(cast(months.month_start as date), budgets.valid_from) as period_start,
        least(cast(months.month_start + interval 1 month as date), budgets.valid_to) as period_end
    from budgets
    cross join as_of
    cross join
        unnest(generate_series(
            cast(date_trunc('month', greatest(budgets.valid_from, as_of.data_first)) as timestamp),
            cast(date_trunc('month', least(budgets.valid_to - 1, as_of.data_as_of)) as timestamp),
            interval 1 month
        )) as months (month_start)
    where budgets.period = 'month'
    union all
    select
        budgets.*,
        budgets.valid_from as period_start,
        budgets.valid_to as period_end
    from budgets
    cross join as_of
    where budgets.period = 'custom' and budgets.valid_from <= as_of.data_as_of
),

person_tiers as (
    select
        periods.budget_id,
        periods.period_start,
        spend.owner_id,
        arg_max(spend.allowance_tier, spend.usage_date) as allowance_tier
    from periods
    inner join spend
        on
            spend.owner_type = 'person'
            and periods.period_start <= spend.usage_date
            and periods.period_end > spend.usage_date
    where periods.owner_type = 'person_tier'
    group by all
),

owner_periods as (
    select
        budget_id,
        owner_type,
        owner_id,
        period_start,
        period_end,
        budget_usd,
        budget_tokens,
        thresholds_pct
    from periods
    where owner_type <> 'person_tier'
    union all
    select
        periods.budget_id,
        'person' as owner_type,
        person_tiers.owner_id,
        periods.period_start,
        periods.period_end,
        periods.budget_usd,
        periods.budget_tokens,
        periods.thresholds_pct
    from periods
    inner join person_tiers
        on
            periods.budget_id = person_tiers.budget_id
            and periods.period_start = person_tiers.period_start
            and periods.owner_id = person_tiers.allowance_tier
),

days as (
    select
        owner_periods.*,
        as_of.data_as_of,
        cast(calendar.day as date) as day
    from owner_periods
    cross join as_of
    cross join unnest(generate_series(
        cast(least(owner_periods.period_start, as_of.data_as_of - 27) as timestamp),
        cast(owner_periods.period_end - 1 as timestamp),
        interval 1 day
    )) as calendar (day)
),

daily as (
    select
        days.*,
        coalesce(spend.spend_usd, 0) as spend_usd,
        coalesce(spend.tokens, 0) as tokens,
        days.day >= days.period_start and days.day <= days.data_as_of as is_to_date,
        days.day > days.data_as_of as is_ahead,
        days.day > days.data_as_of - 28 and days.day <= days.data_as_of as is_rate_window
    from days
    left join spend
        on
            days.owner_type = spend.owner_type
            and days.owner_id = spend.owner_id
            and days.day = spend.usage_date
),

cumulative as (
    select
        *,
        sum(case when is_to_date then spend_usd else 0 end) over (
            partition by budget_id, owner_type, owner_id, period_start order by day
        ) as spend_cumulative_usd
    from daily
),

weekday_rates as (
    select
        budget_id,
        owner_type,
        owner_id,
        period_start,
        dayofweek(day) as weekday,
        avg(spend_usd) as expected_daily_usd
    from daily
    where is_rate_window
    group by all
),

thresholds as (
    select
        owner_periods.budget_id,
        owner_periods.owner_type,
        owner_periods.owner_id,
        owner_periods.period_start,
        cast(split.threshold as integer) as threshold_pct
    from owner_periods
    cross join unnest(string_split(owner_periods.thresholds_pct, '|')) as split (threshold)
),

crossings as (
    select
        thresholds.budget_id,
        thresholds.owner_type,
        thresholds.owner_id,
        thresholds.period_start,
        thresholds.threshold_pct,
        min(cumulative.day) as crossed_on
    from thresholds
    inner join cumulative
        on
            thresholds.budget_id = cumulative.budget_id
            and thresholds.owner_type = cumulative.owner_type
            and thresholds.owner_id = cumulative.owner_id
            and thresholds.period_start = cumulative.period_start
    where
        cumulative.is_to_date
        and cumulative.spend_cumulative_usd >= cumulative.budget_usd * thresholds.threshold_pct / 100.0
    group by all
),

highest_crossing as (
    select *
    from crossings
    qualify row_number() over (
        partition by budget_id, owner_type, owner_id, period_start order by threshold_pct desc
    ) = 1
),

period_totals as (
    select
        budget_id,
        owner_type,
        owner_id,
        period_start,
        any_value(period_end) as period_end,
        any_value(data_as_of) as data_as_of,
        any_value(budget_usd) as budget_usd,
        any_value(budget_tokens) as budget_tokens,
        any_value(thresholds_pct) as thresholds_pct,
        sum(case when is_to_date then spend_usd else 0 end) as spend_to_date_usd,
        sum(case when is_to_date then tokens else 0 end) as tokens_to_date
    from daily
    group by budget_id, owner_type, owner_id, period_start
),

forecasts as (
    select
        daily.budget_id,
        daily.owner_type,
        daily.owner_id,
        daily.period_start,
        coalesce(sum(weekday_rates.expected_daily_usd), 0) as forecast_remaining_usd,
        count(*) as days_remaining
    from daily
    left join weekday_rates
        on
            daily.budget_id = weekday_rates.budget_id
            and daily.owner_type = weekday_rates.owner_type
            and daily.owner_id = weekday_rates.owner_id
            and daily.period_start = weekday_rates.period_start
            and dayofweek(daily.day) = weekday_rates.weekday
    where daily.is_ahead
    group by all
),

people as (
    -- one equi-join per owner type (an OR of join conditions would be a nested loop)
    {% for owner_type, column in [('organisation', none), ('team', 'team_id'), ('cost_center', 'cost_center')] -%}
        select
            owner_periods.budget_id,
            owner_periods.owner_type,
            owner_periods.owner_id,
            owner_periods.period_start,
            count(distinct events.user_email) as people
        from owner_periods
        inner join events
            on
                owner_periods.owner_type = '{{ owner_type }}'
                {% if column %}and owner_periods.owner_id = events.{{ column }}{% endif %}
                and owner_periods.period_start <= events.usage_date
                and owner_periods.period_end > events.usage_date
        group by all
        union all
    {% endfor -%}
    select
        budget_id,
        owner_type,
        owner_id,
        period_start,
        1 as people
    from owner_periods
    where owner_type = 'person'
),

final as (
    select
        period_totals.budget_id,
        period_totals.owner_type,
        period_totals.owner_id,
        period_totals.period_start,
        period_totals.period_end,
        period_totals.data_as_of as as_of_date,
        coalesce(people.people, 0) as people,
        period_totals.budget_usd,
        period_totals.spend_to_date_usd,
        period_totals.spend_to_date_usd + coalesce(forecasts.forecast_remaining_usd, 0) as forecast_usd,
        period_totals.spend_to_date_usd / period_totals.budget_usd as pct_used,
        period_totals.budget_tokens,
        period_totals.tokens_to_date,
        highest_crossing.threshold_pct as threshold_crossed_pct,
        highest_crossing.crossed_on as threshold_crossed_on,
        case
            when
                period_totals.spend_to_date_usd >= period_totals.budget_usd
                or period_totals.tokens_to_date >= period_totals.budget_tokens
                then 'exceeded'
            when
                period_totals.spend_to_date_usd + coalesce(forecasts.forecast_remaining_usd, 0)
                > period_totals.budget_usd
                then 'forecast_to_exceed'
            when highest_crossing.threshold_pct is not null then 'warning'
            else 'ok'
        end as status
    from period_totals
    left join forecasts
        on
            period_totals.budget_id = forecasts.budget_id
            and period_totals.owner_type = forecasts.owner_type
            and period_totals.owner_id = forecasts.owner_id
            and period_totals.period_start = forecasts.period_start
    left join highest_crossing
        on
            period_totals.budget_id = highest_crossing.budget_id
            and period_totals.owner_type = highest_crossing.owner_type
            and period_totals.owner_id = highest_crossing.owner_id
            and period_totals.period_start = highest_crossing.period_start
    left join people
        on
            period_totals.budget_id = people.budget_id
            and period_totals.owner_type = people.owner_type
            and period_totals.owner_id = people.owner_id
            and period_totals.period_start = people.period_start
)

select * from final
