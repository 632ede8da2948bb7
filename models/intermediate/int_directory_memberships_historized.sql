with

directory_changes as (
    select * from {{ ref('stg_people__directory_changes') }}
),

historized as (
    select
        email,
        team_id,
        team_name,
        cost_center,
        allowance_tier,
        valid_from,
        coalesce(
            lead(valid_from) over (partition by email order by valid_from),
            date '9999-12-31'
        ) as valid_to
    from directory_changes
),

final as (
    select
        email,
        team_id,
        team_name,
        cost_center,
        allowance_tier,
        cast(valid_from as timestamp) as valid_from,
        cast(valid_to as timestamp) as valid_to
    from historized
)

select * from final
