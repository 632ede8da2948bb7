with

source as (
    select * from {{ source('people', 'people') }}
),

renamed as (
    select
        lower(trim(email)) as email,
        full_name,
        employee_id,
        trim(team_id) as team_id,
        coalesce(team_name, team_id) as team_name,
        coalesce(nullif(trim(cost_center), ''), 'unassigned') as cost_center,
        lower(trim(manager_email)) as manager_email,
        valid_from,
        coalesce(nullif(lower(trim(allowance_tier)), ''), 'standard') as allowance_tier,
        -- GitHub logins are case-insensitive
        lower(nullif(trim(github_login), '')) as github_login,
        _loaded_at as loaded_at,
        _line as source_line
    from source
),

deduplicated as (
    select *
    from renamed
    qualify row_number() over (
        partition by email, valid_from
        order by loaded_at desc, source_line desc
    ) = 1
)

select * from deduplicated
