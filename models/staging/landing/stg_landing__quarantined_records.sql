with

source as (
    select * from {{ source('landing', 'quarantine') }}
),

renamed as (
    select
        batch_id,
        source_format,
        file_path,
        line_number,
        reason,
        loaded_at
    from source
)

select * from renamed
