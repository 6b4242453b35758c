import sys, csv, statistics, os
def ok(r): return float(r[1])>=475 and float(r[2])>=475
def first475(run):
    rows=list(csv.DictReader(open(run+'/episodes.csv')))
    rets=[float(r['return']) for r in rows]
    for i in range(19,len(rets)):
        if sum(rets[i-19:i+1])/20>=475: return int(rows[i]['total_steps'])
    return None
for d in sys.argv[1:]:
    rows=[l.split() for l in open(d+'/scores.txt')]
    a=[r for r in rows if int(r[0])<=10]; b=[r for r in rows if int(r[0])>100]
    f=[first475(f"{d}/runs/s{r[0]}") for r in rows]
    med=statistics.median([x for x in f if x]) if any(f) else None
    ev=statistics.mean(float(r[2]) for r in rows); tr=statistics.mean(float(r[1]) for r in rows)
    print(f"{d:14s} 1-10 {sum(map(ok,a))}/{len(a)}  101-140 {sum(map(ok,b))}/{len(b)}  eval {ev:.1f} train {tr:.1f}  median first-475 {med}  never {f.count(None)}")
