with

source as (
    select * from {{ source('key_owners', 'api_key_owners') }}
),

renamed as (
    select
        lower(trim(key_type)) as key_type,
        trim(key_id) as key_id,
        lower(trim(owner_email)) as owner_email,
        nullif(trim(team_id), '') as team_id,
        nullif(trim(cost_center), '') as cost_center,
        coalesce(valid_from, date '1970-01-01') as valid_from,
        _loaded_at as loaded_at
    from source
),

deduplicated as (
    select *
    from renamed
    qualify row_number() over (partition by key_type, key_id, valid_from order by loaded_at desc) = 1
),

historized as (
    select
        *,
        coalesce(
            lead(valid_from) over (partition by key_type, key_id order by valid_from), date '9999-12-31'
        ) as valid_to
    from deduplicated
)

select * from historized
