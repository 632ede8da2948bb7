with

source as (
    select * from {{ source('landing', 'erased_members') }}
),

renamed as (
    select
        member_id,
        first_day,
        tool,
        team_id,
        cost_center,
        erased_at
    from source
)

select * from renamed
